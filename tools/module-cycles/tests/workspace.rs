//! The workspace this crate belongs to has no module import cycles (part of the test
//! command: a cycle reintroduced anywhere fails `cargo test --workspace`).

use std::path::Path;

#[test]
fn the_workspace_has_no_module_import_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cycles = module_cycles::check_workspace(&root.join("Cargo.toml")).expect("workspace read");
    let report: String = cycles.iter().map(ToString::to_string).collect();
    assert!(
        cycles.is_empty(),
        "{} module import cycles; move the names two modules share into a lower module:\n{report}",
        cycles.len()
    );
}
