//! Pass 2's output blocks and the two-thread split that writes them.
//!
//! It owns [`OutBuf`], the fixed-size block pass 2 stores expressions into, where its full
//! blocks go ([`Sink`]: written by this thread, or sent to the writing thread, which sends
//! the empty ones back), and [`write_in_blocks`], which decides whether a second thread is
//! worth it and runs the producer there while the calling thread writes. It knows nothing
//! of M1's tokens.

use std::io::Write;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};

/// Whether the machine lets this process run two threads at once.
pub(crate) fn second_core() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Runs `produce` on the blocks of an output of about `total` bytes, written to `out`. On
/// inputs of a megabyte or more, when the machine has a second core, `produce` runs on a
/// second thread and this one writes the blocks it sends, so writing overlaps the work.
/// The first error (of the writer or of `produce`) is returned.
pub(crate) fn write_in_blocks(
    total: usize,
    out: &mut dyn Write,
    produce: impl Fn(Sink<'_>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    if total < 1 << 20 || !second_core() {
        return produce(Sink::Writer(out));
    }
    let produce = &produce;

    let (full_tx, full_rx) = sync_channel::<(Vec<u8>, usize)>(MAX_BLOCKS - 2);
    let (empty_tx, empty_rx) = channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("m1-pass2".into())
            .spawn_scoped(scope, move || {
                let sink = Sink::Channel {
                    full: full_tx,
                    empty: empty_rx,
                    blocks: 1,
                };
                produce(sink)
            });
        let worker = match worker {
            Ok(w) => w,
            // No thread: nothing was sent; do it all here.
            Err(_) => {
                drop((full_rx, empty_tx));
                return produce(Sink::Writer(out));
            }
        };
        let mut written = Ok(());
        for (block, n) in &full_rx {
            if let Err(e) = out.write_all(&block[..n]) {
                written = Err(e);
                break;
            }
            let _ = empty_tx.send(block);
        }
        // Unblocks a worker waiting to send or for an empty block.
        drop((full_rx, empty_tx));
        let worked = match worker.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        written.and(worked)
    })
}

/// Pass 2's output is flushed in blocks of this size.
pub(crate) const FLUSH_AT: usize = 1 << 18;
/// Room past [`FLUSH_AT`] for the fixed-size stores of one token (and any string).
const OUT_CAP: usize = FLUSH_AT + 16 * 1024;
/// Most blocks in use at once when a second thread writes them.
const MAX_BLOCKS: usize = 4;

/// Where pass 2's blocks go.
pub(crate) enum Sink<'w> {
    /// Written here, by this thread.
    Writer(&'w mut dyn Write),
    /// Sent (with their used length) to the thread that writes them, which sends the
    /// empty blocks back.
    Channel {
        full: SyncSender<(Vec<u8>, usize)>,
        empty: Receiver<Vec<u8>>,
        /// Blocks allocated so far.
        blocks: usize,
    },
}

/// Pass 2's output buffer: a block of fixed size with a write index, so that short
/// expressions are stored with fixed-size copies (the bytes past the index are scratch);
/// handed on in blocks of [`FLUSH_AT`] bytes. The first write error is kept and later
/// writes are dropped.
pub(crate) struct OutBuf<'w> {
    buf: Vec<u8>,
    pub(crate) n: usize,
    sink: Sink<'w>,
    pub(crate) err: Option<std::io::Error>,
}

impl<'w> OutBuf<'w> {
    pub(crate) fn new(sink: Sink<'w>) -> Self {
        OutBuf {
            buf: vec![0; OUT_CAP],
            n: 0,
            sink,
            err: None,
        }
    }

    /// Appends the first `len` bytes of `src` (`len <= N`) with one `N`-byte store.
    #[inline(always)]
    pub(crate) fn fixed<const N: usize>(&mut self, src: &[u8; N], len: usize) {
        match self.buf.get_mut(self.n..self.n + N) {
            Some(dst) => {
                dst.copy_from_slice(src);
                self.n += len.min(N);
            }
            None => self.bytes(&src[..len.min(N)]),
        }
    }

    #[inline(always)]
    pub(crate) fn byte(&mut self, b: u8) {
        match self.buf.get_mut(self.n) {
            Some(dst) => {
                *dst = b;
                self.n += 1;
            }
            None => self.bytes(&[b]),
        }
    }

    /// Appends `src[start..end]`, with a 16-byte store when the source has the room.
    #[inline(always)]
    pub(crate) fn text(&mut self, src: &[u8], start: usize, end: usize) {
        if end - start <= 16 {
            if let Some(Ok(w)) = src.get(start..start + 16).map(<&[u8; 16]>::try_from) {
                self.fixed(w, end - start);
                return;
            }
        }
        self.bytes(&src[start..end]);
    }

    #[inline(never)]
    pub(crate) fn bytes(&mut self, mut s: &[u8]) {
        while !s.is_empty() {
            if self.n >= OUT_CAP {
                self.flush();
            }
            let take = s.len().min(OUT_CAP - self.n);
            self.buf[self.n..self.n + take].copy_from_slice(&s[..take]);
            self.n += take;
            s = &s[take..];
        }
    }

    /// The next `len` bytes of the block, flushing it first if they do not fit; `None`
    /// if they never fit. The caller fills them and advances `n`.
    #[inline]
    pub(crate) fn room(&mut self, len: usize) -> Option<&mut [u8]> {
        if self.n + len > OUT_CAP {
            self.flush();
        }
        self.buf.get_mut(self.n..self.n + len)
    }

    /// Appends `count` `0` digits.
    pub(crate) fn zeros(&mut self, mut count: usize) {
        static ZEROS: [u8; 4096] = [b'0'; 4096];
        while count > 0 {
            let chunk = count.min(ZEROS.len());
            self.bytes(&ZEROS[..chunk]);
            count -= chunk;
        }
    }

    #[inline(never)]
    pub(crate) fn flush(&mut self) {
        let n = std::mem::take(&mut self.n);
        if self.err.is_some() {
            return;
        }
        match &mut self.sink {
            Sink::Writer(out) => {
                if let Err(e) = out.write_all(&self.buf[..n]) {
                    self.err = Some(e);
                }
            }
            Sink::Channel {
                full,
                empty,
                blocks,
            } => {
                let block = std::mem::take(&mut self.buf);
                let next = if full.send((block, n)).is_err() {
                    None
                } else if let Ok(b) = empty.try_recv() {
                    Some(b)
                } else if *blocks < MAX_BLOCKS {
                    *blocks += 1;
                    Some(vec![0; OUT_CAP])
                } else {
                    empty.recv().ok()
                };
                match next {
                    Some(b) => self.buf = b,
                    None => {
                        // The writing thread stopped (it holds the write error).
                        self.err = Some(std::io::Error::other("the output writer stopped"));
                        self.buf = vec![0; OUT_CAP];
                    }
                }
            }
        }
    }
}
