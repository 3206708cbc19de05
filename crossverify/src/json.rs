//! JSON values and their text: the machine-readable form of crossverify's results.
//!
//! This module owns the [`Value`] tree, its writer (objects keep their keys in insertion
//! order, so a document's key order is the order its builder chose, stable from run to
//! run), the reader ([`read`], located errors) and the schema checker ([`schema`]) that
//! tests and CI run against the committed schema files. Strings are written as RFC 8259
//! says: `"` and `\` escaped, the control characters U+0000 to U+001F as `\uXXXX` (or
//! `\n`, `\t`, ...), everything else, non-ASCII included, as its UTF-8 bytes. The rule for
//! byte strings that need not be UTF-8 (file names in manifests) is [`name_fields`]:
//! a `name` string always, lossy when it has to be, and beside it `name_hex`, the exact
//! bytes in hex, present exactly when the name is not UTF-8.

pub mod read;
pub mod schema;

use std::fmt::Write as _;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number without fraction or exponent that fits an `i64`.
    Int(i64),
    /// Any other number (the reader's; the writer writes `null` for a non-finite one).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, keys in the order they were added.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// An empty object, to be filled with [`Value::with`].
    pub fn object() -> Value {
        Value::Object(Vec::new())
    }

    /// This object with `key` set to `value` (appended: keys keep insertion order). On a
    /// value that is not an object it does nothing.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Value {
        if let Value::Object(fields) = &mut self {
            fields.push((key.to_string(), value.into()));
        }
        self
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The document's text: two-space indentation, one member or element a line, and a
    /// final newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        write_value(self, 0, &mut out);
        out.push('\n');
        out
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Int(i64::from(n))
    }
}

impl From<u8> for Value {
    fn from(n: u8) -> Value {
        Value::Int(i64::from(n))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

/// An array of `items`, each converted.
pub fn array<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
    Value::Array(items.into_iter().map(Into::into).collect())
}

/// A duration as whole microseconds (the documents' unit of time).
pub fn micros(d: std::time::Duration) -> Value {
    Value::from(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `object` with the byte string `name` under `key` and, when `name` is not UTF-8,
/// `KEY_hex` with its exact bytes as lower-case hex (the `name` string then has U+FFFD in
/// place of each invalid sequence).
pub fn name_fields(object: Value, key: &str, name: &[u8]) -> Value {
    match std::str::from_utf8(name) {
        Ok(s) => object.with(key, s),
        Err(_) => {
            let hex: String = name.iter().map(|b| format!("{b:02x}")).collect();
            object
                .with(key, String::from_utf8_lossy(name).into_owned())
                .with(&format!("{key}_hex"), hex)
        }
    }
}

fn indent(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_value(v: &Value, depth: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) if f.is_finite() => {
            // Debug keeps a fraction or exponent (`2.0`, `1e300`), so it reads back as a
            // float, and is the shortest text that reads back to the same f64.
            let _ = write!(out, "{f:?}");
        }
        Value::Float(_) => out.push_str("null"),
        Value::Str(s) => write_string(s, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(depth + 1, out);
                write_value(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(depth, out);
            out.push(']');
        }
        Value::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Value::Object(fields) => {
            out.push_str("{\n");
            for (i, (k, item)) in fields.iter().enumerate() {
                indent(depth + 1, out);
                write_string(k, out);
                out.push_str(": ");
                write_value(item, depth + 1, out);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            indent(depth, out);
            out.push('}');
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order_and_strings_are_escaped() {
        let v = Value::object()
            .with("schema", "x/1")
            .with("b", 1i64)
            .with("a", "q\"\\\n\u{1}é")
            .with("n", Value::Null)
            .with("e", Value::Array(Vec::new()));
        assert_eq!(
            v.render(),
            "{\n  \"schema\": \"x/1\",\n  \"b\": 1,\n  \"a\": \"q\\\"\\\\\\n\\u0001é\",\n  \"n\": null,\n  \"e\": []\n}\n"
        );
    }

    #[test]
    fn names_that_are_not_utf8_carry_their_bytes() {
        let v = name_fields(Value::object(), "name", b"a\xffb");
        assert_eq!(v.get("name").and_then(Value::as_str), Some("a\u{fffd}b"));
        assert_eq!(v.get("name_hex").and_then(Value::as_str), Some("61ff62"));
        let v = name_fields(Value::object(), "name", "é".as_bytes());
        assert!(v.get("name_hex").is_none());
    }
}
