//! `edge-agent` binary: see [`edge_agent::cli`] for its command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything creates a file: the database, its WAL and SHM, keys are private.
    myna_service::private::restrict_umask();
    match edge_agent::cli::main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("edge-agent: {error:#}");
            if error.is::<edge_agent::cli::Refused>() {
                ExitCode::from(edge_agent::cli::REFUSED_EXIT_STATUS)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
