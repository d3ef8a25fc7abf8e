//! Embeds every resource file of provider-schemas: `RESOURCE_FILES` (src/schema/load.rs) is
//! generated from the folders, so adding a resource is adding its YAML, not a line of Rust.
//!
//! Cargo keeps one build-script output for a package whatever checkout builds it (its hash
//! leaves the path out), so a target directory shared by two checkouts shares this list. The
//! list therefore names files relative to the checkout that compiles it (`CARGO_MANIFEST_DIR`
//! is read when the crate compiles, and rustc tracks each included file), every file and folder
//! is tracked for a re-run, and the list carries the checkout it was made in, so that a list
//! made elsewhere fails to compile (see `load.rs`) instead of embedding other files.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new("provider-schemas/aws");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files: Vec<PathBuf> = Vec::new();
    for service in fs::read_dir(root).expect("provider-schemas/aws") {
        let dir = service.expect("a folder entry").path();
        // `actions/` holds the IAM action lists, which are not resources.
        if !dir.is_dir() || dir.ends_with("actions") {
            continue;
        }
        println!("cargo::rerun-if-changed={}", dir.display());
        for file in fs::read_dir(&dir).expect("a service folder") {
            let path = file.expect("a file entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                println!("cargo::rerun-if-changed={}", path.display());
                files.push(path);
            }
        }
    }
    files.sort();
    let entries: String = files
        .iter()
        .map(|p| {
            let path = p.display().to_string();
            format!(
                "    ({path:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?}))),\n",
                format!("/{path}")
            )
        })
        .collect();
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("resource_files.rs"), format!("&[\n{entries}]\n"))
        .expect("OUT_DIR is writable");
    fs::write(
        out.join("resource_files_made_in.rs"),
        format!("{manifest:?}\n"),
    )
    .expect("OUT_DIR is writable");
}
