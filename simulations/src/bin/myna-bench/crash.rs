//! `myna-bench crash`: the crash harness ([`simulations::crash`]) with its report printed.
//!
//! It starts `myna-edge`, the edge-agent binary the simulations package builds next to
//! this executable (`cargo build --release -p simulations` builds both), unless `--edge`
//! names another executable.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use simulations::crash::CrashConfig;

/// Runs the harness and prints its report; fails if any check failed.
pub fn run(
    cycles: usize,
    tablets: usize,
    seed: u64,
    patients: u64,
    dir: Option<PathBuf>,
    edge: Option<PathBuf>,
) -> anyhow::Result<()> {
    let edge = match edge {
        Some(edge) => edge,
        None => std::env::current_exe()?.with_file_name("myna-edge"),
    };
    anyhow::ensure!(
        edge.exists(),
        "{} not found: build it with `cargo build --release -p simulations`",
        edge.display()
    );
    let temporary;
    let data_dir = match dir {
        Some(dir) => dir,
        None => {
            temporary = tempfile::tempdir()?;
            temporary.path().to_path_buf()
        }
    };
    let mut config = CrashConfig::new(edge.clone(), data_dir.clone());
    config.cycles = cycles;
    config.tablets = tablets.max(1);
    config.seed = seed;
    config.patients = patients;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let report = runtime
        .block_on(simulations::crash::run(config))
        .context("running the crash harness")?;
    println!(
        "crash harness: {} (SIGKILL under load from {tablets} tablets, seed {seed}, --no-rate-limit), data in {}",
        edge.display(),
        data_dir.display()
    );
    print!("{report}");
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    anyhow::ensure!(
        report.failures.is_empty(),
        "{} checks failed",
        report.failures.len()
    );
    Ok(())
}
