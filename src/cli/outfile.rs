//! Where exec writes results: stdout, or an `--outfile` replaced only when the run succeeds.

use std::io::{BufWriter, StdoutLock, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// An `--outfile` being written: a temporary file beside the target, renamed over it by
/// [`OutFile::commit`]. Dropped without a commit (the run failed), it is removed and an
/// existing file at the target keeps its contents.
pub struct OutFile {
    path: PathBuf,
    file: BufWriter<NamedTempFile>,
}

impl OutFile {
    /// Starts writing `path` (the directory must exist and be writable).
    pub fn create(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let file = NamedTempFile::new_in(dir)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
        })
    }

    /// Flushes and renames the file over the target, keeping the target's permissions (or
    /// giving a new file the usual 0644 rather than the temporary file's 0600).
    pub fn commit(self) -> Result<()> {
        let fail =
            |e: std::io::Error| Error::io(format!("cannot write {}", self.path.display()), e);
        let file = self.file.into_inner().map_err(|e| fail(e.into_error()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let permissions = std::fs::metadata(&self.path)
                .map(|m| m.permissions())
                .unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644));
            std::fs::set_permissions(file.path(), permissions).map_err(fail)?;
        }
        file.persist(&self.path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// The results' destination.
pub enum Output<'a> {
    /// Standard output.
    Stdout(BufWriter<StdoutLock<'a>>),
    /// `--outfile`.
    File(OutFile),
}

impl Output<'_> {
    /// Ends a successful run: flushes stdout, or puts the outfile in place.
    pub fn finish(self) -> Result<()> {
        match self {
            Self::Stdout(mut out) => match out.flush() {
                // A reader that stopped early (`| head`) is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::io("cannot write to stdout", e))
                }
                _ => Ok(()),
            },
            Self::File(file) => file.commit(),
        }
    }
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File(f) => f.file.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File(f) => f.file.flush(),
        }
    }
}
