//! Embeds every resource file of provider-schemas: `RESOURCE_FILES` (src/schema/load.rs) is
//! generated from the folders, so adding a resource is adding its YAML, not a line of Rust.

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
        for file in fs::read_dir(&dir).expect("a service folder") {
            let path = file.expect("a file entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let entries: String = files
        .iter()
        .map(|p| {
            let path = p.display().to_string();
            format!(
                "    ({path:?}, include_str!({:?})),\n",
                format!("{manifest}/{path}")
            )
        })
        .collect();
    let out = Path::new(&env::var("OUT_DIR").expect("set by cargo")).join("resource_files.rs");
    fs::write(out, format!("&[\n{entries}]\n")).expect("OUT_DIR is writable");
}
