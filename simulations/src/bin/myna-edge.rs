//! `myna-edge`: the edge-agent binary, built in the simulations package.
//!
//! Same command line and behaviour as `edge-agent` ([`edge_agent::cli`]). It exists because
//! Cargo exposes `CARGO_BIN_EXE_<name>` only to tests of the binary's own package: the
//! crash tests (`tests/integration/crash.rs`) start this executable and SIGKILL it, and
//! `myna-bench crash` looks for it next to its own executable (`cargo build --release -p
//! simulations` builds both into `target/release/`).

fn main() -> anyhow::Result<()> {
    edge_agent::cli::main()
}
