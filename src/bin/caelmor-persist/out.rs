//! Standard output that a closed pipe cannot turn into a panic.
//!
//! `println!` panics when a write fails, and Rust ignores SIGPIPE, so
//! `caelmor-persist inspect --index F | head -3` used to die with "failed
//! printing to stdout" once `head` had read its lines — and `demo | head -1`
//! died between its claim and its commit. Every command writes through
//! [`Out`] instead: once the reader has gone away, output is dropped and the
//! command goes on with its work (a demo still commits what it claimed;
//! `verify` and `log` still check every file, so that their exit status
//! stays true), and the exit status is the command's own. Any other write
//! failure (a full disk behind `>`) is reported once, at the end.

use std::fmt;
use std::io::{self, BufWriter, StdoutLock, Write};

/// Buffered standard output that remembers why it stopped.
pub(crate) struct Out {
    writer: BufWriter<StdoutLock<'static>>,
    /// Flush after every line: a demo's phases take seconds, and each line
    /// should appear when its phase ends, not when the run does.
    eager: bool,
    state: State,
}

#[derive(Debug)]
enum State {
    Open,
    /// The reader closed the pipe: nothing more can be delivered, and that
    /// is not a failure of the command.
    Closed,
    /// Any other write error: the output is incomplete, and the run fails.
    Failed(io::Error),
}

impl Out {
    /// Output flushed in large blocks (long listings, JSON).
    pub(crate) fn buffered() -> Self {
        Self {
            writer: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
            eager: false,
            state: State::Open,
        }
    }

    /// Output flushed line by line (progress of a long run).
    pub(crate) fn eager() -> Self {
        Self {
            eager: true,
            ..Self::buffered()
        }
    }

    /// Writes one line; after a failure, does nothing. Never fails: the
    /// command's work must not depend on whether anyone reads its report.
    pub(crate) fn line(&mut self, args: fmt::Arguments<'_>) {
        if !matches!(self.state, State::Open) {
            return;
        }
        let result = self
            .writer
            .write_fmt(args)
            .and_then(|()| self.writer.write_all(b"\n"))
            .and_then(|()| {
                if self.eager {
                    self.writer.flush()
                } else {
                    Ok(())
                }
            });
        self.record(result);
    }

    /// Whether output can still be delivered: a command whose only remaining
    /// work is output may stop early once it cannot.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.state, State::Open)
    }

    /// Flushes what is buffered, and says whether the output failed for a
    /// reason other than the reader going away.
    pub(crate) fn finish(mut self) -> Result<(), io::Error> {
        if matches!(self.state, State::Open) {
            let result = self.writer.flush();
            self.record(result);
        }
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Open | State::Closed => Ok(()),
            State::Failed(error) => Err(error),
        }
    }

    fn record(&mut self, result: io::Result<()>) {
        if let Err(error) = result {
            self.state = if error.kind() == io::ErrorKind::BrokenPipe {
                State::Closed
            } else {
                State::Failed(error)
            };
        }
    }
}

/// Streams (`serde_json`) write here: the first failure is recorded as for
/// [`Out::line`] and returned, so a serializer stops at once instead of
/// formatting the rest of a large index into a closed pipe.
impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.state {
            State::Open => {}
            State::Closed => return Err(io::ErrorKind::BrokenPipe.into()),
            State::Failed(e) => return Err(e.kind().into()),
        }
        match self.writer.write(buf) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => Err(self.fail(e)),
            result => result,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if !matches!(self.state, State::Open) {
            return Ok(());
        }
        self.writer.flush().map_err(|e| self.fail(e))
    }
}

impl Out {
    /// Records `error` and returns one like it for the caller.
    fn fail(&mut self, error: io::Error) -> io::Error {
        let returned = io::Error::new(error.kind(), error.to_string());
        self.record(Err(error));
        returned
    }
}

/// `outln!(out, "...", args)`: a line on [`Out`].
macro_rules! outln {
    ($out:expr) => {
        $out.line(format_args!(""))
    };
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes a line to standard error without panicking (a closed standard
/// error is no reason to die, nor to hide the exit status).
pub(crate) fn warn(line: fmt::Arguments<'_>) {
    let mut stderr = io::stderr().lock();
    let _ = stderr
        .write_fmt(line)
        .and_then(|()| stderr.write_all(b"\n"));
}
