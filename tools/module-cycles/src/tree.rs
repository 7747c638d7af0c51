//! The module tree of one crate target: which module lives in which file, with its items.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A module's path from the crate root (`[]` is the root, `["store", "tx"]` is `store::tx`).
pub type ModulePath = Vec<String>;

/// One module: where it is written and what it holds (inline child modules excluded; they
/// are modules of their own).
pub struct Module {
    /// The file that holds the module's items.
    pub file: PathBuf,
    /// The module's items, minus `#[cfg(test)]` ones and inline child modules.
    pub items: Vec<syn::Item>,
    /// The names of its child modules.
    pub children: Vec<String>,
}

/// Reads the crate whose root file is `root` (`lib.rs`, `main.rs`, …) and every module file
/// it declares.
pub fn read_crate(root: &Path) -> Result<BTreeMap<ModulePath, Module>> {
    let mut modules = BTreeMap::new();
    let items = parse(root)?;
    let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
    add_module(&mut modules, Vec::new(), root, &dir, items)?;
    Ok(modules)
}

fn parse(file: &Path) -> Result<Vec<syn::Item>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed = syn::parse_file(&text).with_context(|| format!("parsing {}", file.display()))?;
    Ok(parsed.items)
}

/// Adds the module at `path`, written in `file`, whose child module files live in `dir`.
fn add_module(
    modules: &mut BTreeMap<ModulePath, Module>,
    path: ModulePath,
    file: &Path,
    dir: &Path,
    items: Vec<syn::Item>,
) -> Result<()> {
    let mut kept = Vec::new();
    let mut children = Vec::new();
    for item in items {
        if is_test_only(item_attrs(&item)) {
            continue;
        }
        let syn::Item::Mod(module) = item else {
            kept.push(item);
            continue;
        };
        let name = module.ident.to_string();
        let mut child_path = path.clone();
        child_path.push(name.clone());
        children.push(name.clone());
        match module.content {
            Some((_, inner)) => add_module(modules, child_path, file, &dir.join(&name), inner)?,
            None => {
                let (child_file, child_dir) = match path_attribute(&module.attrs) {
                    Some(explicit) => {
                        let file = dir.join(explicit);
                        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                        (file, dir)
                    }
                    None => {
                        let flat = dir.join(format!("{name}.rs"));
                        if flat.exists() {
                            (flat, dir.join(&name))
                        } else {
                            (dir.join(&name).join("mod.rs"), dir.join(&name))
                        }
                    }
                };
                let inner = parse(&child_file)?;
                add_module(modules, child_path, &child_file, &child_dir, inner)?;
            }
        }
    }
    modules.insert(
        path,
        Module {
            file: file.to_path_buf(),
            items: kept,
            children,
        },
    );
    Ok(())
}

/// The attributes of an item of any kind.
pub(crate) fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        ForeignMod(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        TraitAlias(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[cfg(test)]`: compiled only into the crate's own unit tests.
pub(crate) fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}
