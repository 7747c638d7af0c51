//! module-cycles: finds import cycles between the modules of a crate.
//!
//! A module *uses* another when one of its paths (a `use` tree, or a path in code such as
//! `crate::store::Tx::new()` or `super::Error`) resolves into it; declaring `mod child;`
//! is not a use. Two modules that reach each other through such uses form a cycle: the
//! names they share belong in a third, lower module. A crate root counts like any module,
//! so a root that re-exports `error::Error` while modules import `crate::Error` is a cycle
//! too: modules import from the module that defines a name.
//!
//! Written here rather than taken from a cargo plugin: `cargo-modules`' acyclicity check
//! needs rust-analyzer's crates (minutes to build on CI's two cores), while the rules above
//! are syntax only and take `syn` a second on this workspace.
//!
//! What it does not see: paths inside macro invocations (`format!`, `tracing::info!`) and
//! uses through a name imported earlier (`use crate::store; store::Tx` counts once, at the
//! `use`). Modules and items under `#[cfg(test)]` are left out: a test module may reach
//! into the module it tests.
//!
//! # Layout
//! - [`tree`]: the module tree of one crate target, read from its source files.
//! - [`uses`]: the uses of each module, resolved to the module they point into.
//! - [`check_crate`] / [`check_workspace`]: the cycles, as strongly connected components.
#![warn(missing_docs)]

pub mod tree;
pub mod uses;

mod report;

pub use report::{Cycle, Use, check_crate, check_workspace};
