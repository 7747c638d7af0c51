//! `myna-edge`: the edge-agent binary, built in the simulations package, with the
//! synthetic population.
//!
//! Same command line and behaviour as `edge-agent` ([`edge_agent::cli`]), plus
//! `--patients`: at first start it loads that many patients of the local population
//! ([`simulations::load`]) before serving. It exists because Cargo exposes
//! `CARGO_BIN_EXE_<name>` only to tests of the binary's own package: the crash tests
//! (`tests/integration/crash.rs`) start this executable and SIGKILL it, and `myna-bench
//! crash` looks for it next to its own executable (`cargo build --release -p simulations`
//! builds both into `target/release/`).

use clap::Parser;
use simulations::load::{self, Population};

/// The edge-agent's command line and the population to load. (Not named `Args`: clap names
/// each struct's argument group after it, and the flattened one is `Args` already.)
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Synthetic patients to load at first start.
    #[arg(long, default_value_t = Population::LOCAL.patients)]
    patients: u64,
    #[command(flatten)]
    edge: edge_agent::cli::Args,
}

fn main() -> anyhow::Result<()> {
    let args = Cli::parse();
    let population = Population::local(args.patients);
    edge_agent::cli::main_with(
        args.edge,
        Box::new(move |state| {
            let today = state.clock.now().date_naive();
            load::load(&state.store, population, today)?;
            Ok(())
        }),
    )
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["myna-edge", "--dev", "--patients", "7", "--no-rate-limit"])
            .unwrap();
        assert_eq!(cli.patients, 7);
    }
}
