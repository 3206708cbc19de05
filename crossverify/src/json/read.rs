//! The JSON reader: RFC 8259 text to a [`Value`], for the tests and the schema check.
//!
//! It accepts exactly RFC 8259 (one value, surrounded by optional whitespace; no comments,
//! no trailing commas; strings must be valid UTF-8 and escapes complete, surrogate pairs
//! joined) and nests at most [`MAX_DEPTH`] arrays and objects deep, so no input can
//! exhaust the stack. Every error names the file, line and column, what was expected and
//! what was found. Duplicate keys are an error (our documents never have them).

use toolbase::diag::{describe_byte, Diagnostic};

use super::Value;

/// How deeply arrays and objects may nest.
pub const MAX_DEPTH: usize = 128;

struct Reader<'a> {
    file: &'a str,
    text: &'a [u8],
    at: usize,
}

/// Parses `text` (named `file` in errors) as one JSON document.
pub fn parse(file: &str, text: &[u8]) -> Result<Value, Diagnostic> {
    let mut r = Reader { file, text, at: 0 };
    r.space();
    let v = r.value(0)?;
    r.space();
    if r.at < text.len() {
        return Err(r.error("text after the JSON value", "the end of the file"));
    }
    Ok(v)
}

impl Reader<'_> {
    fn error(&self, message: &str, expected: &str) -> Diagnostic {
        let found = match self.text.get(self.at) {
            Some(&b) => describe_byte(b),
            None => "the end of the file".to_string(),
        };
        Diagnostic::new(message)
            .in_file(self.file)
            .at_offset_in(self.text, self.at)
            .expected(expected)
            .found(found)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Diagnostic> {
        match self.peek() {
            Some(b'{') | Some(b'[') if depth >= MAX_DEPTH => Err(self.error(
                &format!("arrays and objects nest more than {MAX_DEPTH} deep"),
                "a shallower document",
            )),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("not a JSON value", "a JSON value")),
        }
    }

    fn word(&mut self, word: &str, v: Value) -> Result<Value, Diagnostic> {
        if self.text[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(v)
        } else {
            Err(self.error("not a JSON value", &format!("'{word}'")))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Diagnostic> {
        self.at += 1;
        let mut fields: Vec<(String, Value)> = Vec::new();
        self.space();
        if self.eat(b'}') {
            return Ok(Value::Object(fields));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.error("an object member must start with its key", "'\"'"));
            }
            let key_at = self.at;
            let key = self.string()?;
            if fields.iter().any(|(k, _)| *k == key) {
                self.at = key_at;
                return Err(self.error(&format!("duplicate key \"{key}\""), "a new key"));
            }
            self.space();
            if !self.eat(b':') {
                return Err(self.error("a key must be followed by ':'", "':'"));
            }
            self.space();
            let v = self.value(depth + 1)?;
            fields.push((key, v));
            self.space();
            if self.eat(b'}') {
                return Ok(Value::Object(fields));
            }
            if !self.eat(b',') {
                return Err(self.error("unterminated object", "',' or '}'"));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Diagnostic> {
        self.at += 1;
        let mut items = Vec::new();
        self.space();
        if self.eat(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            self.space();
            items.push(self.value(depth + 1)?);
            self.space();
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.error("unterminated array", "',' or ']'"));
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Diagnostic> {
        let digits = self.text.get(self.at..self.at + 4).unwrap_or_default();
        let s = std::str::from_utf8(digits)
            .ok()
            .filter(|_| digits.len() == 4);
        match s.and_then(|s| u32::from_str_radix(s, 16).ok()) {
            Some(v) if digits.iter().all(u8::is_ascii_hexdigit) => {
                self.at += 4;
                Ok(v)
            }
            _ => Err(self.error("bad \\u escape", "four hex digits")),
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), Diagnostic> {
        let Some(c) = self.peek() else {
            return Err(self.error("unterminated string", "an escape"));
        };
        self.at += 1;
        let simple = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = if (0xd800..0xdc00).contains(&hi) {
                    if !self.text[self.at..].starts_with(b"\\u") {
                        return Err(
                            self.error("a high surrogate alone", "'\\u' and a low surrogate")
                        );
                    }
                    self.at += 2;
                    let lo = self.hex4()?;
                    if !(0xdc00..0xe000).contains(&lo) {
                        return Err(self.error("a high surrogate alone", "a low surrogate"));
                    }
                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                } else {
                    hi
                };
                match char::from_u32(code) {
                    Some(ch) => ch,
                    None => return Err(self.error("a low surrogate alone", "a character")),
                }
            }
            _ => {
                self.at -= 1;
                return Err(self.error(
                    "unknown escape",
                    "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u",
                ));
            }
        };
        out.push(simple);
        Ok(())
    }

    fn string(&mut self) -> Result<String, Diagnostic> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.at += 1;
            }
            match std::str::from_utf8(&self.text[start..self.at]) {
                Ok(s) => out.push_str(s),
                Err(e) => {
                    self.at = start + e.valid_up_to();
                    return Err(self.error("a string that is not UTF-8", "UTF-8 text"));
                }
            }
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(
                        self.error("a control character in a string", "it escaped as \\uXXXX")
                    )
                }
                None => return Err(self.error("unterminated string", "'\"'")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value, Diagnostic> {
        let start = self.at;
        self.eat(b'-');
        if self.eat(b'0') {
            if matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("a number with a leading zero", "'.', 'e' or its end"));
            }
        } else if self.digits() == 0 {
            return Err(self.error("a '-' without digits", "a digit"));
        }
        let mut integer = true;
        if self.eat(b'.') {
            integer = false;
            if self.digits() == 0 {
                return Err(self.error("a fraction without digits", "a digit"));
            }
        }
        if self.eat(b'e') || self.eat(b'E') {
            integer = false;
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return Err(self.error("an exponent without digits", "a digit"));
            }
        }
        // The bytes are ASCII digits and signs, so this is valid UTF-8.
        let text = std::str::from_utf8(&self.text[start..self.at]).unwrap_or("0");
        if integer {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => {
                self.at = start;
                Err(self.error("a number too large for a 64-bit float", "a smaller number"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_value() {
        let v = parse(
            "t",
            br#" {"a": [1, -2, 3.5, 1e2, true, false, null], "s": "x\u00e9\ud83d\ude00\n\/"} "#,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::object()
                .with(
                    "a",
                    Value::Array(vec![
                        Value::Int(1),
                        Value::Int(-2),
                        Value::Float(3.5),
                        Value::Float(100.0),
                        Value::Bool(true),
                        Value::Bool(false),
                        Value::Null
                    ])
                )
                .with("s", "xé😀\n/")
        );
    }

    #[test]
    fn errors_are_located() {
        let e = parse("doc.json", b"{\n  \"a\": 01\n}").unwrap_err();
        assert_eq!(e.location().as_deref(), Some("doc.json:2:9"), "{e}");
        for bad in [
            &b"[1,]"[..],
            b"{\"a\" 1}",
            b"\"\\ud800\"",
            b"\"a\x01\"",
            b"tru",
            b"[1] 2",
            b"{\"a\":1,\"a\":2}",
            b"\"\xff\"",
            b"",
            b"1e999",
        ] {
            assert!(parse("x", bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse("x", deep.as_bytes()).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse("x", ok.as_bytes()).is_ok());
    }
}
