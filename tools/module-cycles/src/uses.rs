//! The uses of each module: every `use` tree and every path in its code, resolved to the
//! module it points into.

use std::collections::BTreeMap;

use syn::visit::Visit;

use crate::tree::{Module, ModulePath, is_test_only, item_attrs};

/// A path written in a module, as its segments, with the line it is on.
pub struct Written {
    /// The segments (`["crate", "store", "Tx", "new"]`); a glob import ends in `*`.
    pub segments: Vec<String>,
    /// The line in the module's file.
    pub line: usize,
}

/// Every path written in the module's own items (not in its child modules).
pub fn written_paths(module: &Module) -> Vec<Written> {
    let mut collector = Collector::default();
    for item in &module.items {
        collector.visit_item(item);
    }
    collector.paths
}

#[derive(Default)]
struct Collector {
    paths: Vec<Written>,
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let line = item.use_token.span.start().line;
        flatten(&item.tree, &mut Vec::new(), &mut |segments| {
            self.paths.push(Written { segments, line });
        });
    }

    /// `pub(crate)` and `pub(super)` say who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = path
            .segments
            .first()
            .map_or(0, |s| s.ident.span().start().line);
        self.paths.push(Written { segments, line });
        syn::visit::visit_path(self, path);
    }
}

/// Calls `found` with every full path of a `use` tree (`use a::{b, c::*}` gives `a::b` and
/// `a::c::*`).
fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, found: &mut dyn FnMut(Vec<String>)) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, found);
            prefix.pop();
        }
        syn::UseTree::Name(n) => found(with(prefix, n.ident.to_string())),
        syn::UseTree::Rename(r) => found(with(prefix, r.ident.to_string())),
        syn::UseTree::Glob(_) => found(with(prefix, "*".to_owned())),
        syn::UseTree::Group(g) => g.items.iter().for_each(|item| flatten(item, prefix, found)),
    }
}

fn with(prefix: &[String], last: String) -> Vec<String> {
    let mut path = prefix.to_vec();
    path.push(last);
    path
}

/// The module a path written in module `from` points into, if it is a module of this crate
/// other than `from` itself: `crate::`, `self::` and `super::` paths, and paths that start
/// with one of `from`'s child modules. The deepest module the path names is the target
/// (`crate::store::tx::Tx::new` points into `store::tx`).
pub fn resolve(
    modules: &BTreeMap<ModulePath, Module>,
    from: &ModulePath,
    segments: &[String],
) -> Option<ModulePath> {
    let (mut at, rest) = match segments.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &segments[1..]),
        Some("self") => (from.clone(), &segments[1..]),
        Some("super") => {
            let mut at = from.clone();
            let mut rest = segments;
            while rest.first().map(String::as_str) == Some("super") {
                at.pop()?;
                rest = &rest[1..];
            }
            (at, rest)
        }
        // `tx::Tx` after `mod tx;`; a lone `tx` is a value or type, not a module path.
        Some(first) if segments.len() > 1 && modules[from].children.iter().any(|c| c == first) => {
            (from.clone(), segments)
        }
        _ => return None,
    };
    for segment in rest {
        if modules[&at].children.iter().any(|c| c == segment) {
            at.push(segment.clone());
        } else {
            break;
        }
    }
    (at != *from).then_some(at)
}
