//! A file written under a temporary name beside its target and moved into place only when
//! complete: a failed write leaves no partial file, and an existing file as it was.

use std::fs::File;
use std::io::{self, BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempPath};

use crate::error::{Error, Result};

/// Whether [`StagedFile::commit`] may replace a file already at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (`--outfile`, `COPY … OPTIONS (overwrite true)`).
    Replace,
    /// Fail rather than replace it (a file that appeared while this one was written).
    Keep,
}

/// A file being written; dropped without [`StagedFile::commit`] (the run failed), the temporary
/// file is removed.
pub struct StagedFile {
    path: PathBuf,
    // Written through the `File` itself: tempfile's own writer names its temporary path in
    // errors, and messages name the user's file.
    file: BufWriter<File>,
    temp: TempPath,
}

impl StagedFile {
    /// Starts writing `path`. Its directory must exist and be writable: a problem with the
    /// path is a usage error (exit 2) naming it.
    pub fn create(path: &Path) -> Result<Self> {
        let refuse = |why: String| Error::Usage(format!("cannot write {}: {why}", path.display()));
        if path.is_dir() {
            return Err(refuse("it is a directory".into()));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(refuse(format!(
                "the directory {} does not exist (skyql creates no directory)",
                dir.display()
            )));
        }
        let (file, temp) = NamedTempFile::new_in(dir)
            .map_err(|e| refuse(reason(&e)))?
            .into_parts();
        Ok(Self {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
            temp,
        })
    }

    /// The file's path (the target, not the temporary name).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and moves the file into place, keeping a replaced file's permissions (or giving
    /// a new file the usual 0644 rather than the temporary file's 0600).
    pub fn commit(self, existing: Existing) -> Result<()> {
        let fail = |e: io::Error| Error::io(format!("cannot write {}", self.path.display()), e);
        let file = self.file.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let permissions = std::fs::metadata(&self.path)
                .map(|m| m.permissions())
                .unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644));
            file.set_permissions(permissions).map_err(fail)?;
        }
        let moved = match existing {
            Existing::Replace => self.temp.persist(&self.path),
            Existing::Keep => self.temp.persist_noclobber(&self.path),
        };
        match moved {
            Ok(()) => Ok(()),
            Err(e) if e.error.kind() == ErrorKind::AlreadyExists => Err(Error::Runtime(format!(
                "cannot write {}: a file of that name appeared while it was being written; \
                 it was left as it is and nothing was written",
                self.path.display()
            ))),
            Err(e) => Err(fail(e.error)),
        }
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Why a file could not be created: the system's reason, without the temporary name tempfile
/// adds to it (`… at path "/dir/.tmpqMufba"`).
fn reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at path ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_file_replaces_the_target_and_a_dropped_one_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old\n").unwrap();
        let mut dropped = StagedFile::create(&path).unwrap();
        dropped.write_all(b"half").unwrap();
        drop(dropped);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        let mut file = StagedFile::create(&path).unwrap();
        file.write_all(b"new\n").unwrap();
        file.commit(Existing::Replace).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn keep_never_replaces_a_file_that_appeared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut file = StagedFile::create(&path).unwrap();
        file.write_all(b"mine\n").unwrap();
        std::fs::write(&path, "theirs\n").unwrap();
        let e = file.commit(Existing::Keep).unwrap_err();
        assert!(e.to_string().contains("appeared"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "theirs\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn problems_with_the_path_name_it_and_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/out.csv");
        for (path, why) in [
            (missing, "does not exist"),
            (dir.path().to_path_buf(), "it is a directory"),
        ] {
            let Err(e) = StagedFile::create(&path) else {
                panic!("{} was accepted", path.display());
            };
            assert_eq!(e.exit_code(), 2, "{e}");
            let message = e.to_string();
            assert!(
                message.contains(&path.display().to_string()) && message.contains(why),
                "{message}"
            );
            // The test's own directory is a temporary one: only a name beside it would be ours.
            let named = message.replace(&dir.path().display().to_string(), "DIR");
            assert!(!named.contains(".tmp"), "{message}");
        }
    }
}
