//! A minimal JSON Schema checker: the subset crossverify's committed schemas use.
//!
//! Keywords checked: `type` (a name or an array of names: `object`, `array`, `string`,
//! `integer`, `number`, `boolean`, `null`), `properties`, `required`,
//! `additionalProperties` (`false` or a schema), `items` (one schema for every element),
//! `enum` and `const`. `$schema`, `$id`, `title` and `description` are annotations. Any
//! other keyword is an error in the schema, so a schema never seems to say more than is
//! checked. Property order is not checked (the writer's order is the documents' builders'
//! job, and tests compare it).

use super::Value;

const ANNOTATIONS: &[&str] = &["$schema", "$id", "title", "description"];
const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
];

/// Checks `doc` against `schema`; `Err` lists every violation as `/json/pointer: what`
/// (a fault in the schema itself is reported the same way, under `schema`).
pub fn check(schema: &Value, doc: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check_at(schema, doc, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(v: &Value, name: &str) -> bool {
    let t = type_name(v);
    t == name || (name == "number" && t == "integer")
}

fn short(v: &Value) -> String {
    let text = v.render();
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        one_line.chars().take(57).collect::<String>() + "..."
    } else {
        one_line
    }
}

fn check_at(schema: &Value, doc: &Value, at: &str, errors: &mut Vec<String>) {
    let Value::Object(keywords) = schema else {
        errors.push(format!(
            "{at}: schema: expected an object, found {}",
            short(schema)
        ));
        return;
    };
    for (k, _) in keywords {
        if !KEYWORDS.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()) {
            errors.push(format!(
                "{at}: schema: keyword '{k}' is not supported by this checker"
            ));
        }
    }
    if let Some(t) = schema.get("type") {
        let names: Vec<&str> = match t {
            Value::Str(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if names.is_empty() {
            errors.push(format!("{at}: schema: 'type' must name a type"));
        } else if !names.iter().any(|n| is_type(doc, n)) {
            errors.push(format!(
                "{at}: expected {}, found {} {}",
                names.join(" or "),
                type_name(doc),
                short(doc)
            ));
            return;
        }
    }
    if let Some(c) = schema.get("const") {
        if c != doc {
            errors.push(format!("{at}: expected {}, found {}", short(c), short(doc)));
        }
    }
    if let Some(e) = schema.get("enum") {
        match e.as_array() {
            Some(options) if !options.contains(doc) => errors.push(format!(
                "{at}: expected one of {}, found {}",
                short(e),
                short(doc)
            )),
            Some(_) => {}
            None => errors.push(format!("{at}: schema: 'enum' must be an array")),
        }
    }
    if let Value::Object(fields) = doc {
        check_object(schema, fields, at, errors);
    }
    if let (Value::Array(items), Some(item_schema)) = (doc, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check_at(item_schema, item, &format!("{at}/{i}"), errors);
        }
    }
}

fn pointer(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn check_object(schema: &Value, fields: &[(String, Value)], at: &str, errors: &mut Vec<String>) {
    if let Some(required) = schema.get("required") {
        for name in required.as_array().unwrap_or_default() {
            match name.as_str() {
                Some(n) if fields.iter().any(|(k, _)| k == n) => {}
                Some(n) => errors.push(format!("{at}: required member \"{n}\" is missing")),
                None => errors.push(format!("{at}: schema: 'required' must list strings")),
            }
        }
    }
    let properties = schema.get("properties");
    for (k, v) in fields {
        match properties.and_then(|p| p.get(k)) {
            Some(s) => check_at(s, v, &pointer(at, k), errors),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => errors.push(format!(
                    "{}: member not allowed by the schema",
                    pointer(at, k)
                )),
                Some(Value::Bool(true)) | None => {}
                Some(s) => check_at(s, v, &pointer(at, k), errors),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::read::parse;
    use super::*;

    fn schema() -> Value {
        parse(
            "s",
            br#"{"type": "object", "required": ["schema", "n"],
                 "additionalProperties": false,
                 "properties": {
                   "schema": {"const": "x/1"},
                   "n": {"type": ["integer", "null"]},
                   "v": {"enum": ["a", "b"]},
                   "list": {"type": "array", "items": {"type": "string"}},
                   "map": {"type": "object", "additionalProperties": {"type": "integer"}}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn accepts_and_rejects() {
        let ok = parse(
            "d",
            br#"{"schema": "x/1", "n": null, "v": "a", "list": ["q"], "map": {"k": 1}}"#,
        )
        .unwrap();
        assert_eq!(check(&schema(), &ok), Ok(()));
        let bad = parse(
            "d",
            br#"{"schema": "x/2", "v": "c", "list": [1], "map": {"k": "s"}, "extra": 0}"#,
        )
        .unwrap();
        let errors = check(&schema(), &bad).unwrap_err();
        let all = errors.join("\n");
        for want in [
            "/schema: expected \"x/1\"",
            ": required member \"n\" is missing",
            "/v: expected one of",
            "/list/0: expected string, found integer",
            "/map/k: expected integer",
            "/extra: member not allowed",
        ] {
            assert!(all.contains(want), "{want} not in\n{all}");
        }
    }

    #[test]
    fn unknown_keywords_are_schema_errors() {
        let s = parse("s", br#"{"minimum": 3}"#).unwrap();
        let e = check(&s, &Value::Int(1)).unwrap_err();
        assert!(e[0].contains("'minimum' is not supported"), "{e:?}");
    }
}
