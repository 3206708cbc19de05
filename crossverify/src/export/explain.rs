//! `explain --json`: an [`Explanation`] as a `hexroot.crossverify.explain/2` document.
//!
//! Built from the same [`Explanation`] the text is rendered from; the hex context is
//! given as numbers (`null` past a file's end). Version 2 added each side's hex2 token
//! (with whether the side's bytes are what it emits, and its M1 source) and the
//! disassembly of the instruction covering the first differing byte.

use crate::explain::disassembly::Line;
use crate::explain::{Disassembly, ElfPlace, Explanation, TokenCheck};
use crate::json::{array, Value};

fn side(name: &str, bytes: &[u8]) -> Value {
    Value::object()
        .with("name", name)
        .with("size", bytes.len())
        .with("sha256", crate::sha256_hex(bytes))
}

fn elf(place: &Result<Option<ElfPlace>, String>) -> Value {
    match place {
        Ok(None) => Value::Null,
        Ok(Some(p)) => Value::object()
            .with("kind", &p.kind)
            .with("little_endian", p.little_endian)
            .with("segment", p.segment.clone())
            .with("vaddr", p.vaddr)
            .with("section", p.section.clone())
            .with("symbol", p.symbol.clone())
            .with("error", Value::Null),
        Err(e) => Value::object()
            .with("kind", Value::Null)
            .with("little_endian", Value::Null)
            .with("segment", Value::Null)
            .with("vaddr", Value::Null)
            .with("section", Value::Null)
            .with("symbol", Value::Null)
            .with("error", e),
    }
}

fn token(t: &Option<TokenCheck>) -> Value {
    let Some(t) = t else { return Value::Null };
    let (m1, m1_error) = match &t.m1 {
        None => (Value::Null, Value::Null),
        Some(Ok(s)) => (
            Value::object()
                .with("map", &s.map)
                .with("location", &s.location)
                .with("token", &s.token)
                .with("note", s.note.clone()),
            Value::Null,
        ),
        Some(Err(why)) => (Value::Null, Value::from(why)),
    };
    Value::object()
        .with("location", &t.location)
        .with("token", &t.token)
        .with("offset", t.offset)
        .with("length", t.len)
        .with("address", t.address)
        .with("bytes", array(t.actual.iter().copied()))
        .with(
            "expected",
            t.emitted_by_token
                .map(|_| array(t.expected.iter().copied())),
        )
        .with("emitted_by_token", t.emitted_by_token)
        .with("m1_source", m1)
        .with("m1_error", m1_error)
}

fn line(l: &Option<Line>) -> Value {
    let Some(l) = l else { return Value::Null };
    Value::object()
        .with("address", l.address)
        .with("bytes", array(l.bytes.iter().copied()))
        .with("text", &l.text)
}

fn disassembly(d: &Result<Disassembly, String>) -> Value {
    match d {
        Ok(d) => Value::object()
            .with("isa", d.isa.name())
            .with("a", line(&d.sides[0]))
            .with("b", line(&d.sides[1]))
            .with("error", Value::Null),
        Err(why) => Value::object()
            .with("isa", Value::Null)
            .with("a", Value::Null)
            .with("b", Value::Null)
            .with("error", why),
    }
}

fn document(a: Value, b: Value, difference: Value) -> Value {
    Value::object()
        .with("schema", crate::export::schema_id("explain"))
        .with("a", a)
        .with("b", b)
        .with("identical", difference == Value::Null)
        .with("difference", difference)
}

/// The document for two identical files.
pub fn identical(names: (&str, &str), size: usize, sha256: &str) -> Value {
    let side = |name: &str| {
        Value::object()
            .with("name", name)
            .with("size", size)
            .with("sha256", sha256)
    };
    document(side(names.0), side(names.1), Value::Null)
}

/// The document for `e`, the explanation of how `bytes.0` and `bytes.1` differ.
pub fn json(e: &Explanation, bytes: (&[u8], &[u8])) -> Value {
    let d = e.difference;
    let context = e.context.iter().map(|(offset, ra, rb)| {
        Value::object()
            .with("offset", *offset)
            .with("a", array(ra.iter().copied()))
            .with("b", array(rb.iter().copied()))
    });
    let difference = Value::object()
        .with("first_offset", d.first)
        .with("count", d.count)
        .with("a_byte", e.bytes.0)
        .with("b_byte", e.bytes.1)
        .with("a_elf", elf(&e.elf[0]))
        .with("b_elf", elf(&e.elf[1]))
        .with("source", e.source.clone())
        .with("m1_source", e.m1_source.clone())
        .with("a_token", token(&e.tokens[0]))
        .with("b_token", token(&e.tokens[1]))
        .with("disassembly", disassembly(&e.disassembly))
        .with("context", array(context));
    document(
        side(&e.names.0, bytes.0),
        side(&e.names.1, bytes.1),
        difference,
    )
}
