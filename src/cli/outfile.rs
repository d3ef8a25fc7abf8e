//! Where exec writes results: stdout, or an `--outfile` replaced only when the run succeeds.

use std::io::{BufWriter, StdoutLock, Write};

use crate::error::{Error, Result};
use crate::staged_file::{Existing, StagedFile};

/// The results' destination.
pub enum Output<'a> {
    /// Standard output.
    Stdout(BufWriter<StdoutLock<'a>>),
    /// `--outfile`: written beside its target and moved over it only when the run succeeds.
    File(StagedFile),
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
            Self::File(file) => file.commit(Existing::Replace),
        }
    }
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File(f) => f.flush(),
        }
    }
}
