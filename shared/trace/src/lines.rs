//! Log lines to stdout without std's stdout lock.
//!
//! `std::io::Stdout` is one lock around a line buffer: every line a
//! request logs takes it and holds it through its `write(2)`, so two
//! workers finishing requests at once queue on it, one of them asleep in
//! a futex. Under `wrk` about one in seven of the product page's requests
//! met the other worker there (load/README.md, "(i)").
//!
//! The `fmt` layer formats a whole line into its own buffer and hands it
//! over in one `write_all`, so no buffer is needed here: [`Lines`] writes
//! each line with one `write(2)` on its own handle to stdout. The kernel
//! keeps lines whole: a pipe write of at most `PIPE_BUF` (4096) bytes is
//! atomic, and a regular file's offset moves under the file's own lock.
//! A longer line could be split on a pipe, so lines are written under a
//! read-write lock: short lines share it (no waiting on each other), a long
//! line takes it alone.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::RwLock;
use tracing_subscriber::fmt::MakeWriter;

/// The longest line written beside others: POSIX's `PIPE_BUF` on Linux.
pub const ATOMIC_LINE: usize = 4096;

/// Where log lines go: a handle of their own to stdout (or any file).
#[derive(Debug)]
pub struct Lines {
    out: Output,
    /// Shared by lines up to [`ATOMIC_LINE`] bytes, exclusive above.
    order: RwLock<()>,
}

#[derive(Debug)]
enum Output {
    File(File),
    /// stdout could not be duplicated (closed): std's handle, locked.
    Std,
}

impl Lines {
    /// A handle of its own to this process's stdout.
    pub fn stdout() -> Self {
        let out = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_or(Output::Std, |fd| Output::File(File::from(fd)));
        Self {
            out,
            order: RwLock::new(()),
        }
    }

    #[cfg(test)]
    fn to(file: File) -> Self {
        Self {
            out: Output::File(file),
            order: RwLock::new(()),
        }
    }

    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let file = match &self.out {
            Output::File(file) => file,
            Output::Std => return io::stdout().lock().write_all(line),
        };
        // A poisoned lock guards nothing (its data is `()`): go on.
        if line.len() <= ATOMIC_LINE {
            let _shared = self.order.read().unwrap_or_else(|e| e.into_inner());
            (&*file).write_all(line)
        } else {
            let _alone = self.order.write().unwrap_or_else(|e| e.into_inner());
            (&*file).write_all(line)
        }
    }
}

/// One event's writer: the `fmt` layer makes one per line.
#[derive(Debug)]
pub struct Line<'a>(&'a Lines);

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_line(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::sync::Arc;

    /// Lines from many threads at once, short ones and ones longer than
    /// a pipe's atomic write, arrive whole through a pipe.
    #[test]
    fn lines_from_many_threads_arrive_whole() {
        let (mut reader, writer) = io::pipe().unwrap();
        let lines = Arc::new(Lines::to(File::from(std::os::fd::OwnedFd::from(writer))));
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    for i in 0..200usize {
                        let len = if i % 10 == 0 { 3 * ATOMIC_LINE } else { 40 + i };
                        let mut line = vec![b'a' + t; len];
                        line.push(b'\n');
                        lines.make_writer().write_all(&line).unwrap();
                    }
                })
            })
            .collect();
        let reading = std::thread::spawn(move || {
            let mut all = Vec::new();
            reader.read_to_end(&mut all).unwrap();
            all
        });
        for t in threads {
            t.join().unwrap();
        }
        drop(lines); // closes the pipe's write end
        let all = reading.join().unwrap();
        let mut count = 0;
        for line in all.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let first = line[0];
            assert!(line.iter().all(|b| *b == first), "a line was split");
            count += 1;
        }
        assert_eq!(count, 8 * 200);
    }
}
