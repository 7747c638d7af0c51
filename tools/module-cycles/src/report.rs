//! The cycles of a crate or of a whole workspace, and how they are reported.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;

use crate::tree::{ModulePath, read_crate};
use crate::uses::{resolve, written_paths};

/// One use of a module by another: the first place it is written.
#[derive(Debug, Clone)]
pub struct Use {
    /// The using module (`crate::api::auth`).
    pub from: String,
    /// The used module.
    pub to: String,
    /// Where the use is written.
    pub file: PathBuf,
    /// Its line.
    pub line: usize,
}

/// Modules of one crate target that reach each other through uses.
#[derive(Debug, Clone)]
pub struct Cycle {
    /// The crate target (`edge-agent (lib)`).
    pub target: String,
    /// The modules in the cycle.
    pub modules: Vec<String>,
    /// The uses between them, one per pair of modules.
    pub uses: Vec<Use>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.target, self.modules.join(" <-> "))?;
        for u in &self.uses {
            writeln!(
                f,
                "    {}:{}: {} uses {}",
                u.file.display(),
                u.line,
                u.from,
                u.to
            )?;
        }
        Ok(())
    }
}

fn display(path: &ModulePath) -> String {
    std::iter::once("crate")
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("::")
}

/// The cycles among the modules of the crate whose root file is `root`, named `target` in
/// the report.
pub fn check_crate(target: &str, root: &Path) -> Result<Vec<Cycle>> {
    let modules = read_crate(root)?;
    let ids: BTreeMap<&ModulePath, usize> = modules.keys().zip(0..).collect();
    let names: Vec<&ModulePath> = modules.keys().collect();
    let mut graph = DiGraphMap::<usize, ()>::new();
    let mut first_use: BTreeMap<(usize, usize), Use> = BTreeMap::new();
    for (path, module) in &modules {
        let from = ids[path];
        graph.add_node(from);
        for written in written_paths(module) {
            let Some(to) = resolve(&modules, path, &written.segments) else {
                continue;
            };
            let to = ids[&to];
            graph.add_edge(from, to, ());
            first_use.entry((from, to)).or_insert_with(|| Use {
                from: display(path),
                to: display(names[to]),
                file: module.file.clone(),
                line: written.line,
            });
        }
    }
    let mut cycles = Vec::new();
    for component in tarjan_scc(&graph) {
        if component.len() < 2 {
            continue;
        }
        let mut members = component.clone();
        members.sort_unstable();
        let uses = first_use
            .iter()
            .filter(|((a, b), _)| members.contains(a) && members.contains(b))
            .map(|(_, u)| u.clone())
            .collect();
        cycles.push(Cycle {
            target: target.to_owned(),
            modules: members.iter().map(|&m| display(names[m])).collect(),
            uses,
        });
    }
    Ok(cycles)
}

/// The cycles in every target (library, binaries, tests, benches, examples) of every member
/// of the workspace whose manifest is `manifest`.
pub fn check_workspace(manifest: &Path) -> Result<Vec<Cycle>> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .context("cargo metadata")?;
    let mut cycles = Vec::new();
    for package in metadata.workspace_packages() {
        for target in &package.targets {
            if target.is_custom_build() {
                continue;
            }
            let kind = target
                .kind
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            let name = format!("{} ({kind} {})", package.name, target.name);
            cycles.extend(check_crate(&name, target.src_path.as_std_path())?);
        }
    }
    Ok(cycles)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the files `(path, text)` of a crate into a temporary directory and returns
    /// the cycles of its `lib.rs`, each as its list of modules.
    fn check(files: &[(&str, &str)]) -> Vec<Vec<String>> {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, text) in files {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(file, text).expect("write");
        }
        let cycles = check_crate("fixture", &dir.path().join("lib.rs")).expect("readable crate");
        cycles.into_iter().map(|c| c.modules).collect()
    }

    fn cycle(modules: &[&str]) -> Vec<Vec<String>> {
        vec![modules.iter().map(|m| m.to_string()).collect()]
    }

    #[test]
    fn siblings_that_import_each_other_are_a_cycle() {
        let found = check(&[
            ("lib.rs", "mod a; mod b;"),
            ("a.rs", "use crate::b::Token; pub struct Staff;"),
            (
                "b.rs",
                "pub struct Token; fn f() -> super::a::Staff { todo!() }",
            ),
        ]);
        assert_eq!(found, cycle(&["crate::a", "crate::b"]));
    }

    #[test]
    fn a_root_that_re_exports_what_its_modules_import_back_is_a_cycle() {
        let found = check(&[
            (
                "lib.rs",
                "mod error; mod store; pub use store::Store; pub struct Error;",
            ),
            ("error.rs", ""),
            ("store.rs", "use crate::Error; pub struct Store;"),
        ]);
        assert_eq!(found, cycle(&["crate", "crate::store"]));
    }

    #[test]
    fn a_name_moved_to_a_lower_module_breaks_the_cycle() {
        let found = check(&[
            (
                "lib.rs",
                "mod error; mod store; pub use error::Error; pub use store::Store;",
            ),
            ("error.rs", "pub struct Error;"),
            ("store.rs", "use crate::error::Error; pub struct Store;"),
        ]);
        assert_eq!(found, Vec::<Vec<String>>::new());
    }

    #[test]
    fn nested_files_inline_modules_and_globs_are_followed() {
        let found = check(&[
            ("lib.rs", "pub mod card;"),
            (
                "card/mod.rs",
                "mod apdu; mod pin { pub fn digits() { super::apdu::verify(); } }",
            ),
            ("card/apdu.rs", "use super::pin::*; pub fn verify() {}"),
        ]);
        assert_eq!(found, cycle(&["crate::card::apdu", "crate::card::pin"]));
    }

    #[test]
    fn test_only_code_visibility_and_local_names_are_not_uses() {
        let found = check(&[
            ("lib.rs", "mod tx; pub(crate) fn open(tx: u8) -> u8 { tx }"),
            (
                "tx.rs",
                "pub(crate) struct Tx; #[cfg(test)] mod tests { use crate::open; }",
            ),
        ]);
        assert_eq!(found, Vec::<Vec<String>>::new());
    }

    #[test]
    fn the_report_names_each_use_with_its_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("lib.rs"),
            "mod a;\npub use a::A;\npub struct B;",
        )
        .unwrap();
        std::fs::write(dir.path().join("a.rs"), "\n\nuse crate::B;\npub struct A;").unwrap();
        let cycles = check_crate("fixture", &dir.path().join("lib.rs")).unwrap();
        let text = cycles[0].to_string();
        assert!(text.contains("lib.rs:2: crate uses crate::a"), "{text}");
        assert!(text.contains("a.rs:3: crate::a uses crate"), "{text}");
    }
}
