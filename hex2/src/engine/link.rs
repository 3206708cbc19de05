//! Linking: label definitions entered and pointers resolved.
//!
//! It owns what happens to the labels and pointers the scanner finds: pass 1's definitions,
//! entered per chunk in groups so that the label table's cache misses overlap (or kept, in a
//! pass 1 fork, for [`Linker::join_pass1`]); pass 2's pointers, placed at once or reserved
//! and resolved at the end of their chunk ([`Pending`]), looked up, evaluated by the pure
//! functions of [`crate::pointer`] and handed to [`super::output`]; and the undefined labels
//! met, with their use sites. The wording of errors is [`super::diagnose`]'s.

use std::sync::Arc;

use toolbase::diag::Diagnostic;

use super::diagnose::ErrorKind;
use super::{Def, Linker};
use crate::config::Dialect;
use crate::labels::{LabelDef, LabelTable};
use crate::pointer::{self, How, Spec};
use crate::source::Loc;

/// How many use sites of an undefined label are listed.
const MAX_USES: usize = 64;

/// A pass 2 pointer whose field (zeros for now) is already in the output, resolved at the
/// end of its chunk together with its neighbours so that their label lookups' cache
/// misses overlap. Only used where resolving cannot change how later bytes are scanned
/// (no `^` rule, no RISC-V XOR register, no map).
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    sigil: u8,
    hash: u32,
    name: (u32, u32),
    base: Option<(u32, u32)>,
    start: u32,
    at: Loc,
    out_pos: usize,
}

/// Pending pointers resolved per group: the group's index slots and records are read
/// first, all together, then each pointer is resolved from the cache.
const GROUP: usize = 64;

impl Linker {
    /// Enters the pending label definitions of `chunk`, in order (pass 1 never looks
    /// labels up, so entering them per chunk rather than on the spot changes nothing but
    /// lets the index slots of a group be read together first).
    pub(super) fn define_pending(&mut self, chunk: &[u8]) {
        if self.pending_defs.is_empty() {
            return;
        }
        if let Some((names, defs)) = &mut self.collected {
            // a pass 1 fork: keep them for `join_pass1`
            for d in &self.pending_defs {
                let start = names.len() as u32;
                names.extend_from_slice(&chunk[d.0 .0 as usize..d.0 .1 as usize]);
                defs.push(((start, names.len() as u32), d.1, d.2));
            }
            self.pending_defs.clear();
            return;
        }
        let defs = std::mem::take(&mut self.pending_defs);
        let labels = Arc::make_mut(&mut self.labels);
        define_all(labels, chunk, &defs, 0, u32::MAX, 0);
        self.pending_defs = defs;
        self.pending_defs.clear();
    }

    /// Resolves the pending pointers of `chunk`, in order, stopping at the first error.
    pub(super) fn resolve_pending(&mut self, chunk: &[u8]) -> Result<(), Diagnostic> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        let mut result = Ok(());
        let mut hashes = [0u32; GROUP];
        'groups: for group in pending.chunks_mut(GROUP) {
            for (p, h) in group.iter_mut().zip(hashes.iter_mut()) {
                p.hash = LabelTable::hash(&chunk[p.name.0 as usize..p.name.1 as usize]);
                *h = p.hash;
            }
            self.labels.touch(&hashes[..group.len()], true);
            for p in group.iter() {
                let name = &chunk[p.name.0 as usize..p.name.1 as usize];
                let base = p.base.map(|(a, b)| &chunk[a as usize..b as usize]);
                let spec = pointer::spec(p.sigil, self.config.arch.is_riscv());
                if let Err(e) = self.resolve(
                    name,
                    Some(p.hash),
                    base,
                    spec,
                    p.start,
                    p.at,
                    Some(p.out_pos),
                    &[],
                ) {
                    result = Err(e);
                    break 'groups;
                }
            }
        }
        pending.clear();
        self.pending = pending;
        result
    }

    /// Places the pass 2 pointer `name` (optionally `name>base`, both slices of `chunk`)
    /// whose token is `token`: its field is reserved now and resolved at the end of the
    /// chunk (see [`Pending`]), or resolved on the spot.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn place_pointer(
        &mut self,
        chunk: &[u8],
        sigil: u8,
        spec: Spec,
        name: &[u8],
        base: Option<&[u8]>,
        at: Loc,
        token: &[u8],
    ) -> Result<(), Diagnostic> {
        let start = self.ip;
        if self.defer {
            self.ip = self.ip.wrapping_add(spec.size);
            let out_pos = self.out.len();
            if spec.size == 4 {
                self.out.extend_from_slice(&[0; 4]);
            } else {
                self.out.resize(out_pos + spec.size as usize, 0);
            }
            let range = |s: &[u8]| {
                let a = s.as_ptr() as usize - chunk.as_ptr() as usize;
                (a as u32, (a + s.len()) as u32)
            };
            self.pending.push(Pending {
                sigil,
                hash: 0,
                name: range(name),
                base: base.map(range),
                start,
                at,
                out_pos,
            });
            return Ok(());
        }
        self.resolve(name, None, base, spec, start, at, None, token)
    }

    /// Computes and writes the pointer `name` (optionally `name>base`) whose field starts
    /// at address `start`: appended to the output, or written at `out_pos` if its place
    /// was reserved. In pass 2 after an undefined label, only collects undefined uses.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn resolve(
        &mut self,
        name: &[u8],
        hash: Option<u32>,
        base: Option<&[u8]>,
        spec: Spec,
        start: u32,
        at: Loc,
        out_pos: Option<usize>,
        token: &[u8],
    ) -> Result<(), Diagnostic> {
        let dialect = self.config.dialect;
        if !self.undefined.is_empty() {
            // The link has failed: only collect further uses of undefined labels.
            for n in std::iter::once(name).chain(base) {
                if self.labels.get(n).is_none() {
                    self.note_undefined(n, at);
                }
            }
            if out_pos.is_none() {
                self.ip = self.ip.wrapping_add(spec.size);
            }
            return Ok(());
        }
        if out_pos.is_none() {
            self.ip = self.ip.wrapping_add(spec.size);
        }
        let field_end = start.wrapping_add(spec.size);
        let found = match hash {
            Some(h) => self.labels.get_hashed(name, h),
            None => self.labels.get(name),
        };
        let Some(target) = found else {
            self.note_undefined(name, at);
            if let Some(b) = base {
                if self.labels.get(b).is_none() {
                    self.note_undefined(b, at);
                }
            }
            return Ok(());
        };
        let t = target.address;
        let base_addr = match base {
            Some(b) => match self.labels.get(b) {
                Some(d) => Some(d.address),
                None => {
                    self.note_undefined(b, at);
                    return Ok(());
                }
            },
            None => None,
        };
        let arch = self.config.arch;
        let value: u32 = match dialect {
            Dialect::Full => pointer::full_value(
                arch,
                self.caret_rule,
                &mut self.aligned,
                spec,
                t,
                base_addr,
                field_end,
            )
            .map_err(|error| {
                let kind = ErrorKind::Pointer {
                    error,
                    name,
                    target,
                    field_end,
                };
                self.error(at, kind)
            })?,
            Dialect::SeedHex2 | Dialect::SeedHex1 => pointer::seed_value(
                arch,
                dialect,
                &mut self.aligned,
                spec,
                t,
                base_addr,
                start,
                field_end,
            ),
        };
        if let How::Imm(_) = spec.how {
            self.xor ^= value;
            return Ok(());
        }
        self.write_field(value, spec, start, at, out_pos, token);
        Ok(())
    }

    #[cold]
    pub(super) fn note_undefined(&mut self, name: &[u8], at: Loc) {
        if let Some((_, uses)) = self.undefined.iter_mut().find(|(n, _)| &n[..] == name) {
            if uses.len() < MAX_USES {
                uses.push(at);
            }
        } else if self.undefined.len() < 1000 {
            self.undefined.push((name.into(), vec![at]));
        }
    }
}

/// Enters label definitions in order: each is a name (a range of `text`), an address
/// (moved by `base`) and a site (its line moved by `lines` if in `file`). The index slots
/// of a group are read together first, so that their cache misses overlap.
pub(super) fn define_all(
    labels: &mut LabelTable,
    text: &[u8],
    defs: &[Def],
    base: u32,
    file: u32,
    lines: u32,
) {
    let mut hashes = [0u32; GROUP];
    for group in defs.chunks(GROUP) {
        for (d, h) in group.iter().zip(hashes.iter_mut()) {
            *h = LabelTable::hash(&text[d.0 .0 as usize..d.0 .1 as usize]);
        }
        labels.touch(&hashes[..group.len()], false);
        for (d, &h) in group.iter().zip(hashes.iter()) {
            let name = &text[d.0 .0 as usize..d.0 .1 as usize];
            let mut at = d.2;
            if at.file == file {
                at.line += lines;
            }
            let address = d.1.wrapping_add(base);
            labels.define_hashed(name, h, LabelDef { address, at });
        }
    }
}
