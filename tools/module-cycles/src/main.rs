//! `module-cycles [WORKSPACE-DIR]`: lists the module import cycles of every crate in the
//! workspace; exits 1 when there is one.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> anyhow::Result<ExitCode> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let cycles = module_cycles::check_workspace(&dir.join("Cargo.toml"))?;
    for cycle in &cycles {
        println!("{cycle}");
    }
    if cycles.is_empty() {
        println!("no module import cycles");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} module import cycles", cycles.len());
        Ok(ExitCode::FAILURE)
    }
}
