//! `myna-sim day`: a national day of My Number emergency against the real services, sped
//! up, with faults; prints the report, writes it as JSON and draws the plots.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use simulations::day::{self, DayConfig, faults, load};
use simulations::fleet;

/// Simulations of My Number emergency.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    run: Run,
}

#[derive(Subcommand)]
enum Run {
    /// One day of dispatches over the national fleet, with faults.
    Day {
        /// Dispatches over the day.
        #[arg(long, default_value_t = load::NATIONAL_DISPATCHES)]
        dispatches: usize,
        /// Simulated seconds per real second (100: the day takes 14.4 minutes).
        #[arg(long, default_value_t = 100.0)]
        speedup: f64,
        /// Fire headquarters.
        #[arg(long, default_value_t = fleet::NATIONAL_HQS)]
        hqs: usize,
        /// Ambulance units (one tablet each).
        #[arg(long, default_value_t = fleet::NATIONAL_UNITS)]
        units: usize,
        /// Synthetic patients the edge loads at first start.
        #[arg(long, default_value_t = 50_000)]
        patients: u64,
        /// Seed of the dispatches.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Run without the default faults.
        #[arg(long)]
        no_faults: bool,
        /// Where the services' files, the report and the plots go (default: a new
        /// temporary directory, kept).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Where the plots go (default: `<dir>/plots`).
        #[arg(long)]
        plots: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    myna_service::init_tracing("warn");
    myna_service::raise_open_file_limit()?;
    let Run::Day {
        dispatches,
        speedup,
        hqs,
        units,
        patients,
        seed,
        no_faults,
        dir,
        plots,
    } = Args::parse().run;
    let dir = match dir {
        Some(dir) => dir,
        None => tempfile::Builder::new()
            .prefix("myna-sim-day-")
            .tempdir()?
            .keep(),
    };
    let faults = if no_faults {
        Vec::new()
    } else {
        faults::default_faults()
    };
    println!(
        "myna-sim day: {dispatches} dispatches, {units} units in {hqs} HQs, {speedup}× speed-up, files in {}",
        dir.display()
    );
    for fault in &faults {
        println!("  fault: {}", fault.describe());
    }
    let report = day::run(DayConfig {
        seed,
        dispatches,
        hqs,
        units,
        patients,
        speedup,
        faults,
        data_dir: dir.join("run"),
        progress: true,
    })
    .await?;
    let json = dir.join("day-report.json");
    std::fs::write(&json, serde_json::to_vec_pretty(&report)?)?;
    let plot_dir = plots.unwrap_or_else(|| dir.join("plots"));
    let written = day::plots::write_all(&report, &plot_dir)?;
    println!("\n{}", report.markdown());
    println!("report: {}", json.display());
    for path in written {
        println!("plot:   {}", path.display());
    }
    anyhow::ensure!(
        report.verification.ok(),
        "records lost or handoffs not delivered exactly once: see {}",
        json.display()
    );
    Ok(())
}
