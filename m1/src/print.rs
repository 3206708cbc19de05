//! M1's pass 2: printing the hex2 text (and the map) from what pass 1 learnt.
//!
//! It owns the output spacing of spec `hex2-m1.md` 2.6 (a token is followed by a space
//! unless a newline comes next; a run of newlines prints one) and the writing of each
//! token's expression. There are two printers of the same output: the plain one
//! ([`Pass2`], the fast path: the fast [`crate::walk`], pass 1's record numbers, fixed-size
//! stores into [`crate::blocks::OutBuf`], on a second thread for large inputs) and the
//! mapped one (`print_mapped`, the reference: the located walk of [`crate::expand`], which
//! also writes the map). The engine's tests check that they print the same bytes.

use std::io::Write;

use crate::analyse::{Expr, Program, KIND, K_DEFINE};
use crate::blocks::{write_in_blocks, OutBuf, Sink, FLUSH_AT};
use crate::collapse::At;
use crate::config::{Config, DigitStyle};
use crate::expand::{Expanded, Item};
use crate::express::{express_string, number_of, quick_number, FAST_FIRST, LABEL_SECOND};
use crate::lexer::TokenKind;
use crate::number::{digits_per_byte, hex_spaced, hex_word, push_digits, strtoint};
use crate::source::Source;
use crate::walk::{visit, Tok, Visit};

impl Program<'_> {
    /// Pass 2: prints the hex2 text (and the map, when asked for).
    pub fn print(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        out: &mut dyn Write,
        map: Option<(&mut dyn Write, &str)>,
    ) -> std::io::Result<()> {
        match map {
            None => self.print_plain(sources, config, out),
            Some((map, output)) => self.print_mapped(sources, config, out, Some(map), output),
        }
    }

    /// Pass 2 without a map, over the fast walk: the same spacing rules as
    /// [`Program::print_mapped`] (a token is followed by a space unless a newline comes
    /// next; a newline is printed unless another newline follows it), kept as the
    /// separator owed before the next token. On inputs of a megabyte or more, when the
    /// machine has a second core, the walk runs on a second thread and this one writes
    /// the blocks it produces, so writing overlaps the work.
    fn print_plain(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let total: usize = sources.iter().map(|s| s.text.len()).sum();
        write_in_blocks(total, out, |sink| self.print_blocks(sources, config, sink))
    }

    /// Pass 2's walk, its blocks going to `sink`.
    pub(crate) fn print_blocks(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        sink: Sink<'_>,
    ) -> std::io::Result<()> {
        let mut pass = Pass2 {
            program: self,
            config,
            o: OutBuf::new(sink),
            scratch: Vec::new(),
            pend: 0,
            ids: self.ids.iter(),
        };
        visit(sources, &mut pass);
        let mut o = pass.o;
        if pass.pend == b'\n' {
            o.byte(b'\n');
        }
        o.flush();
        match o.err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The expression of the token `src[start..end]` when pass 1 kept no record number for
    /// it: the common cases (labels, decimal numbers in hex) written directly, the rest
    /// through [`Program::express`].
    #[inline(always)]
    fn express_fast(
        &self,
        src: &[u8],
        start: usize,
        end: usize,
        config: &Config,
        o: &mut OutBuf<'_>,
        scratch: &mut Vec<u8>,
    ) {
        let text = &src[start..end];
        let first = text[0];
        if self.defined_first[usize::from(first)] && first != b'"' && first != b'\'' {
            if let Some(id) = self.table.find(&self.inputs, text) {
                if let e @ (Expr::Short(..) | Expr::Long(_)) = self.exprs[id as usize] {
                    match e {
                        Expr::Short(v, n) => o.fixed(&v, usize::from(n)),
                        Expr::Long(v) => o.bytes(v),
                        Expr::ByText => {}
                    }
                    return;
                }
            }
        }
        match first {
            b'"' if config.digits == DigitStyle::Hex => {
                // Step A in hex: each byte and the closing NUL as `XX `, then knight's
                // padding to a 4-byte boundary.
                let body = &text[1..];
                let len = 3 * (body.len() + 1);
                if let Some(dst) = o.room(len) {
                    hex_spaced(body, dst);
                    dst[len - 3..].copy_from_slice(b"00 ");
                    o.n += len;
                    if config.arch.is_knight() {
                        o.zeros(6 - 2 * (body.len() % 4));
                    }
                    return;
                }
            }
            b'!' | b'@' | b'$' | b'~' | b'%' | b'&' => {
                let label = match text.get(1) {
                    None => true,
                    Some(&c) => LABEL_SECOND[usize::from(c)],
                };
                if label {
                    o.text(src, start, end);
                    return;
                }
                if config.digits == DigitStyle::Hex {
                    if let Some(num) = quick_number(text, config.arch) {
                        let digits = hex_word(num.value, num.bytes, config.endian);
                        o.fixed(&digits, 2 * num.bytes);
                        return;
                    }
                }
            }
            b':' | b'^' => {
                o.text(src, start, end);
                return;
            }
            b'<' => {
                let n = strtoint(&text[1..]);
                if n == 0 {
                    o.bytes(text);
                } else {
                    o.zeros(n.max(0) as usize * digits_per_byte(config.digits));
                }
                return;
            }
            _ => {}
        }
        scratch.clear();
        let mut flushed = 0;
        // Paddings, the only expressions `express` may flush, were handled above.
        let _ = self.express(text, config, scratch, &mut flushed, &mut std::io::sink());
        o.bytes(scratch);
    }

    /// Pass 2 with a map, over the located token walk.
    fn print_mapped(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        out: &mut dyn Write,
        mut map: Option<&mut dyn Write>,
        output: &str,
    ) -> std::io::Result<()> {
        const FLUSH_AT: usize = 1 << 16;
        let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 8192);
        let mut map_buf: Vec<u8> = Vec::new();
        if map.is_some() {
            map_buf.extend_from_slice(crate::map::header(output).as_bytes());
        }
        let mut flushed: u64 = 0;
        let mut out_line: u64 = 1;
        let mut line_start: u64 = 0;
        // The previous token, waiting to learn whether a newline follows it.
        let mut prev: Option<Option<At>> = None;
        let mut items = Expanded::new(sources).filter_map(|item| match item {
            Item::Newline => Some(None),
            Item::Text(at) => Some(Some(at)),
            Item::Define { .. } => None,
        });
        loop {
            let next = items.next();
            if let Some(p) = prev {
                let next_is_newline = matches!(next, None | Some(None));
                match p {
                    None => {
                        if next.is_none() || !next_is_newline {
                            buf.push(b'\n');
                            if map.is_some() {
                                out_line += 1;
                                line_start = flushed + buf.len() as u64;
                            }
                        }
                    }
                    Some(at) => {
                        let before = buf.len();
                        if map.is_some() {
                            let col = flushed + before as u64 - line_start + 1;
                            map_line(&mut map_buf, out_line, col, sources, at);
                        }
                        let text = at.tok.text(sources[at.file].text);
                        self.express(text, config, &mut buf, &mut flushed, out)?;
                        if !next_is_newline {
                            buf.push(b' ');
                        }
                        if map.is_some() {
                            // Expressions may hold newlines (DEFINE values, '..' strings).
                            let start = before.min(buf.len());
                            for (i, &b) in buf[start..].iter().enumerate() {
                                if b == b'\n' {
                                    out_line += 1;
                                    line_start = flushed + (start + i + 1) as u64;
                                }
                            }
                        }
                    }
                }
                if buf.len() >= FLUSH_AT {
                    out.write_all(&buf)?;
                    flushed += buf.len() as u64;
                    buf.clear();
                }
                if let Some(m) = map.as_mut() {
                    if map_buf.len() >= FLUSH_AT {
                        m.write_all(&map_buf)?;
                        map_buf.clear();
                    }
                }
            }
            match next {
                Some(n) => prev = Some(n),
                None => break,
            }
        }
        out.write_all(&buf)?;
        if let Some(m) = map.as_mut() {
            m.write_all(&map_buf)?;
        }
        Ok(())
    }

    /// Appends the expression of the token `text` to `buf` (long paddings are flushed
    /// through `out`). Pass 1 made sure it has one.
    fn express(
        &self,
        text: &[u8],
        config: &Config,
        buf: &mut Vec<u8>,
        flushed: &mut u64,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let first = text[0];
        if first == b'"' || first == b'\'' {
            express_string(text, config, buf);
            return Ok(());
        }
        if self.defined_first[usize::from(first)] {
            if let Some(id) = self.table.find(&self.inputs, text) {
                let r = &self.table.records[id as usize];
                if r.state & KIND == K_DEFINE {
                    match self.values[r.payload as usize] {
                        Some((start, len)) => buf.extend_from_slice(self.inputs.bytes(start, len)),
                        None => buf.push(b'\n'),
                    }
                    return Ok(());
                }
            }
        }
        if first == b'<' {
            let n = strtoint(&text[1..]);
            if n == 0 {
                buf.extend_from_slice(text);
                return Ok(());
            }
            let mut zeros = n.max(0) as usize * digits_per_byte(config.digits);
            while zeros > 0 {
                let chunk = zeros.min(1 << 16);
                buf.resize(buf.len() + chunk, b'0');
                zeros -= chunk;
                if buf.len() >= 1 << 17 {
                    out.write_all(buf)?;
                    *flushed += buf.len() as u64;
                    buf.clear();
                }
            }
            return Ok(());
        }
        if let Some(num) = quick_number(text, config.arch) {
            push_digits(buf, num.value, num.bytes, config.digits, config.endian);
            return Ok(());
        }
        match number_of(text, config.arch) {
            Some(Ok(num)) => {
                if num.dot {
                    buf.push(b'.');
                }
                push_digits(buf, num.value, num.bytes, config.digits, config.endian);
            }
            _ => buf.extend_from_slice(text),
        }
        Ok(())
    }
}

/// Pass 2 (without a map) as a walk visitor.
struct Pass2<'p, 'a, 'w> {
    program: &'p Program<'a>,
    config: &'p Config,
    o: OutBuf<'w>,
    scratch: Vec<u8>,
    /// Owed before the next token: nothing at the start, a space after a token, a
    /// newline after a newline (a run of newlines prints one).
    pend: u8,
    ids: std::slice::Iter<'p, u32>,
}

impl Visit for Pass2<'_, '_, '_> {
    #[inline(always)]
    fn newline(&mut self) {
        self.pend = b'\n';
    }

    #[inline(always)]
    fn text(&mut self, _: u32, src: &[u8], start: usize, end: usize, _: u8) -> bool {
        let o = &mut self.o;
        if self.pend != 0 {
            o.byte(self.pend);
        }
        self.pend = b' ';
        let p = self.program;
        let mut by_text = true;
        if !FAST_FIRST[usize::from(src[start])] {
            if let Some(&id) = self.ids.next() {
                match &p.exprs[id as usize] {
                    Expr::Short(v, n) => {
                        o.fixed(v, usize::from(*n));
                        by_text = false;
                    }
                    Expr::Long(v) => {
                        o.bytes(v);
                        by_text = false;
                    }
                    Expr::ByText => {}
                }
            }
        }
        if by_text {
            p.express_fast(src, start, end, self.config, o, &mut self.scratch);
        }
        if o.n >= FLUSH_AT {
            o.flush();
            if o.err.is_some() {
                return false;
            }
        }
        true
    }

    fn define(&mut self, _: Option<Tok>, _: Tok) -> bool {
        true
    }
}

fn map_line(map: &mut Vec<u8>, out_line: u64, out_col: u64, sources: &[Source<'_>], at: At) {
    let src = sources[at.file].text;
    let mut end = at.tok.end;
    if let TokenKind::Str {
        terminated: true, ..
    } = at.tok.kind
    {
        end += 1;
    }
    crate::map::write_entry(
        map,
        (out_line, out_col),
        (
            sources[at.file].name,
            u64::from(at.tok.line),
            u64::from(at.tok.col),
        ),
        &src[at.tok.start..end],
    );
}
