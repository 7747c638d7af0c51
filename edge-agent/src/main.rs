//! `edge-agent` binary: see [`edge_agent::cli`] for its command line.

fn main() -> anyhow::Result<()> {
    edge_agent::cli::main()
}
