//! Where the shell's results go (psql's `\o`): the terminal, or a file for the session.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The results' destination.
#[derive(Debug, Default)]
pub enum ResultsTo {
    /// stdout (through the pager on a terminal).
    #[default]
    Stdout,
    /// `\o FILE` (or `--outfile`): every result of the session, one after another.
    File {
        /// As given, for messages.
        path: PathBuf,
        /// Open for the session.
        file: File,
    },
}

impl ResultsTo {
    /// `\o FILE`: creates or empties FILE, as psql does, and keeps it open so the results that
    /// follow are appended.
    pub fn file(path: &Path) -> Result<Self> {
        let file = File::create(path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        Ok(Self::File {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Where this is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Stdout => "stdout".into(),
            Self::File { path, .. } => path.display().to_string(),
        }
    }

    /// Appends `text` to the file; `false` when the destination is stdout (the caller shows it).
    pub fn write_to_file(&mut self, text: &[u8]) -> Result<bool> {
        match self {
            Self::Stdout => Ok(false),
            Self::File { path, file } => {
                file.write_all(text)
                    .and_then(|()| file.flush())
                    .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_emptied_when_chosen_then_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old\n").unwrap();
        let mut to = ResultsTo::file(&path).unwrap();
        assert!(to.write_to_file(b"one\n").unwrap());
        assert!(to.write_to_file(b"two\n").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        assert!(!ResultsTo::Stdout.write_to_file(b"x").unwrap());
        assert!(ResultsTo::file(&dir.path().join("no/such/dir")).is_err());
    }
}
