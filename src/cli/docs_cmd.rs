//! `skyql docs`: writes the resource pages rendered from provider-schemas.

use crate::cli::args::DocsArgs;
use crate::docs;
use crate::error::Result;

/// Writes every resource page under `--out` and lists the files written; returns the exit code.
pub fn run(args: &DocsArgs) -> Result<i32> {
    for path in docs::render_all(&args.out)? {
        println!("{}", path.display());
    }
    Ok(0)
}
