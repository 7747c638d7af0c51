//! `edge-agent` binary: see [`edge_agent::cli`] for its command line.

fn main() -> anyhow::Result<()> {
    // Before anything creates a file: the database, its WAL and SHM, keys are private.
    myna_service::private::restrict_umask();
    edge_agent::cli::main()
}
