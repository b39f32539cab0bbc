//! The strvals state machine, over characters so errors can point at a column.

use std::path::Path;

use serde_json::Value;

use crate::error::ValuesError;
use crate::{merge, path, Map};

/// Helm refuses list indexes above this (to stop `a[999999999]=x` allocating).
const MAX_INDEX: usize = 65536;
/// Helm refuses dotted names nested deeper than this.
const MAX_NESTED_NAME_LEVEL: usize = 30;

/// Which flag an expression came from; decides how values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetFlag {
    Set,
    SetString,
    SetJson,
    SetFile,
    SetLiteral,
}

impl SetFlag {
    /// The flag as typed on the command line.
    pub fn as_flag(self) -> &'static str {
        match self {
            SetFlag::Set => "--set",
            SetFlag::SetString => "--set-string",
            SetFlag::SetJson => "--set-json",
            SetFlag::SetFile => "--set-file",
            SetFlag::SetLiteral => "--set-literal",
        }
    }
}

pub(super) fn parse(
    flag: SetFlag,
    expr: &str,
    into: &mut Map,
    base_dir: Option<&Path>,
) -> Result<Vec<String>, ValuesError> {
    let mut parser = Parser {
        flag,
        expr,
        chars: expr.chars().collect(),
        pos: 0,
        base_dir,
        assigned: Vec::new(),
    };
    if flag == SetFlag::SetJson && expr.trim_start().starts_with('{') {
        return parser.whole_json_object(into);
    }
    while !parser.at_end() {
        parser.key(into, "", 0)?;
    }
    Ok(parser.assigned)
}

struct Parser<'a> {
    flag: SetFlag,
    expr: &'a str,
    chars: Vec<char>,
    pos: usize,
    base_dir: Option<&'a Path>,
    assigned: Vec<String>,
}

/// What ended a run of characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Char(char),
    End,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn literal(&self) -> bool {
        self.flag == SetFlag::SetLiteral
    }

    /// Error at a 0-based character index.
    fn fail(&self, index: usize, message: impl Into<String>) -> ValuesError {
        ValuesError::Set {
            flag: self.flag.as_flag().to_owned(),
            expr: self.expr.to_owned(),
            column: index + 1,
            message: message.into(),
        }
    }

    /// Read until one of `stops` (consumed) or the end; `\` escapes the next character except
    /// in `--set-literal`.
    fn until(&mut self, stops: &[char]) -> (String, Stop) {
        let mut out = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            if stops.contains(&c) {
                return (out, Stop::Char(c));
            }
            if c == '\\' && !self.literal() {
                match self.chars.get(self.pos) {
                    Some(&next) => {
                        out.push(next);
                        self.pos += 1;
                    }
                    None => return (out, Stop::End),
                }
            } else {
                out.push(c);
            }
        }
        (out, Stop::End)
    }

    fn key(&mut self, data: &mut Map, parent: &str, level: usize) -> Result<(), ValuesError> {
        let start = self.pos;
        let stops: &[char] = if self.literal() {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (key, stop) = self.until(stops);
        let key_path = path::child_key(parent, &key);
        match stop {
            Stop::End => Err(self.fail(
                self.chars.len(),
                format!("key {key:?} has no value (expected `=`)"),
            )),
            Stop::Char(',') => Err(self.fail(
                self.pos - 1,
                format!("key {key:?} has no value (expected `=` before `,`)"),
            )),
            Stop::Char(_) if key.is_empty() => Err(self.fail(start, "empty key name")),
            Stop::Char('=') => {
                let value = self.value()?;
                data.insert(key, value);
                self.assigned.push(key_path);
                Ok(())
            }
            Stop::Char('[') => {
                let index = self.index()?;
                let list = match data.remove(&key) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items,
                    Some(other) => return Err(self.conflict(start, &key_path, &other, "a list")),
                };
                let list = self.list_item(list, index, &key_path, level)?;
                data.insert(key, Value::Array(list));
                Ok(())
            }
            Stop::Char(_) => {
                // '.': a nested map.
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(self.fail(
                        self.pos - 1,
                        format!("names nested deeper than {MAX_NESTED_NAME_LEVEL} levels"),
                    ));
                }
                let mut inner = match data.remove(&key) {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(map)) => map,
                    Some(other) => return Err(self.conflict(start, &key_path, &other, "a map")),
                };
                let nested_start = self.pos;
                self.key(&mut inner, &key_path, level)?;
                if inner.is_empty() {
                    return Err(self.fail(nested_start, format!("key map {key:?} has no value")));
                }
                data.insert(key, Value::Object(inner));
                Ok(())
            }
        }
    }

    fn conflict(&self, at: usize, path: &str, existing: &Value, wanted: &str) -> ValuesError {
        let kind = match existing {
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "a map",
            Value::Null => "null",
        };
        self.fail(
            at,
            format!("{path} is already {kind} ({existing}), cannot treat it as {wanted}"),
        )
    }

    /// After `[`: a non-negative index and its `]`.
    fn index(&mut self) -> Result<usize, ValuesError> {
        let start = self.pos;
        let (text, stop) = self.until(&[']']);
        if stop == Stop::End {
            return Err(self.fail(
                start.saturating_sub(1),
                "list index is missing its closing `]`",
            ));
        }
        let index: i64 = text
            .trim()
            .parse()
            .map_err(|_| self.fail(start, format!("list index {text:?} is not an integer")))?;
        if index < 0 {
            return Err(self.fail(start, format!("negative list index {index} is not allowed")));
        }
        let index = index as usize;
        if index > MAX_INDEX {
            return Err(self.fail(
                start,
                format!(
                    "list index {index} is greater than the maximum supported index {MAX_INDEX}"
                ),
            ));
        }
        Ok(index)
    }

    fn list_item(
        &mut self,
        mut list: Vec<Value>,
        index: usize,
        list_path: &str,
        level: usize,
    ) -> Result<Vec<Value>, ValuesError> {
        let item_path = path::child_index(list_path, index);
        let start = self.pos;
        let (rest, stop) = self.until(&['[', '.', '=']);
        if !rest.is_empty() {
            return Err(self.fail(
                start,
                format!("unexpected {rest:?} after list index (expected `=`, `.` or `[`)"),
            ));
        }
        match stop {
            Stop::End => Err(self.fail(self.chars.len(), "list index has no value (expected `=`)")),
            Stop::Char('=') => {
                let value = self.value()?;
                set_index(&mut list, index, value);
                self.assigned.push(item_path);
                Ok(list)
            }
            Stop::Char('[') => {
                let next_index = self.index()?;
                let nested = match list.get_mut(index).map(Value::take) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items,
                    Some(other) => return Err(self.conflict(start, &item_path, &other, "a list")),
                };
                let nested = self.list_item(nested, next_index, &item_path, level)?;
                set_index(&mut list, index, Value::Array(nested));
                Ok(list)
            }
            Stop::Char(_) => {
                // '.': a map inside the list. Helm replaces a non-map item with a fresh map.
                let mut inner = match list.get_mut(index).map(Value::take) {
                    Some(Value::Object(map)) => map,
                    _ => Map::new(),
                };
                self.key(&mut inner, &item_path, level)?;
                set_index(&mut list, index, Value::Object(inner));
                Ok(list)
            }
        }
    }

    /// After `=`: the value to assign.
    fn value(&mut self) -> Result<Value, ValuesError> {
        match self.flag {
            SetFlag::SetLiteral => {
                let rest: String = self.chars[self.pos..].iter().collect();
                self.pos = self.chars.len();
                Ok(Value::String(rest))
            }
            SetFlag::SetJson => self.json_value(),
            _ => {
                if self.at_end() {
                    // `a=` is the empty string, for every flag (Helm reads no file for it).
                    return Ok(Value::String(String::new()));
                }
                if self.chars[self.pos] == '{' {
                    return self.value_list().map(Value::Array);
                }
                let start = self.pos;
                let (text, _) = self.until(&[',']);
                self.read(&text, start)
            }
        }
    }

    /// `{a,b,c}` (the `{` not yet consumed); a `,` right after the `}` is consumed.
    fn value_list(&mut self) -> Result<Vec<Value>, ValuesError> {
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            let start = self.pos;
            let (text, stop) = self.until(&[',', '}']);
            match stop {
                Stop::End => return Err(self.fail(open, "list starting here must end with `}`")),
                Stop::Char('}') => {
                    items.push(self.read(&text, start)?);
                    if self.chars.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    return Ok(items);
                }
                Stop::Char(_) => items.push(self.read(&text, start)?),
            }
        }
    }

    /// Turn one value's text into data according to the flag.
    fn read(&self, text: &str, start: usize) -> Result<Value, ValuesError> {
        match self.flag {
            SetFlag::Set => Ok(typed(text)),
            SetFlag::SetFile => {
                let file = self
                    .base_dir
                    .map(|d| d.join(text))
                    .unwrap_or_else(|| text.into());
                std::fs::read(&file)
                    .map(|bytes| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
                    .map_err(|e| self.fail(start, format!("cannot read {}: {e}", file.display())))
            }
            _ => Ok(Value::String(text.to_owned())),
        }
    }

    /// `--set-json` value: blank (up to `,` or the end) is null; otherwise one JSON value,
    /// then optional blanks and one `,`.
    fn json_value(&mut self) -> Result<Value, ValuesError> {
        if self.skip_blank_and_comma() {
            return Ok(Value::Null);
        }
        let start = self.pos;
        let end = json_extent(&self.chars, start);
        let text: String = self.chars[start..end].iter().collect();
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            let offset = if e.is_eof() {
                text.chars().count()
            } else {
                column_offset(&text, e.line(), e.column())
            };
            self.fail(start + offset, json_message(&e))
        })?;
        self.pos = end;
        self.skip_blank_and_comma();
        Ok(numbers_as_floats(value))
    }

    /// Skip whitespace; consume a `,` if one follows. True when the value is blank.
    fn skip_blank_and_comma(&mut self) -> bool {
        while let Some(&c) = self.chars.get(self.pos) {
            if c == ',' {
                self.pos += 1;
                return true;
            }
            if !c.is_whitespace() {
                return false;
            }
            self.pos += 1;
        }
        true
    }

    fn whole_json_object(&mut self, into: &mut Map) -> Result<Vec<String>, ValuesError> {
        let offset = self.expr.len() - self.expr.trim_start().len();
        let value: Value = serde_json::from_str(self.expr.trim()).map_err(|e| {
            let trimmed = self.expr.trim();
            let column = if e.is_eof() {
                trimmed.chars().count()
            } else {
                column_offset(trimmed, e.line(), e.column())
            };
            self.fail(
                self.expr[..offset].chars().count() + column,
                json_message(&e),
            )
        })?;
        let value = numbers_as_floats(value);
        let assigned = match &value {
            Value::Object(map) => map.keys().map(|k| path::child_key("", k)).collect(),
            _ => Vec::new(),
        };
        let mut target = Value::Object(std::mem::take(into));
        merge::deep_merge(&mut target, value);
        if let Value::Object(map) = target {
            *into = map;
        }
        Ok(assigned)
    }
}

/// serde_json's message without its own "at line 1 column 6" (our column is the one that
/// counts, measured in the whole expression).
fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let reason = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(reason, _)| reason);
    format!("invalid JSON: {reason}")
}

/// Helm's typing of `--set` values.
fn typed(text: &str) -> Value {
    if text.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::from(0i64);
    }
    if !text.is_empty() && !text.starts_with('0') {
        if let Some(i) = parse_go_decimal(text) {
            return Value::from(i);
        }
    }
    Value::String(text.to_owned())
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, ASCII digits, fits i64.
fn parse_go_decimal(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Extend `list` with nulls as needed and put `value` at `index`.
fn set_index(list: &mut Vec<Value>, index: usize, value: Value) {
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    list[index] = value;
}

/// Where the JSON value starting at `start` ends: a bracketed value ends at its matching
/// bracket; a string at its closing quote; a bare scalar at a `,` or whitespace.
fn json_extent(chars: &[char], start: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate().skip(start) {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    in_string = false;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            ',' if depth == 0 => return i,
            c if c.is_whitespace() && depth == 0 => return i,
            _ => {}
        }
    }
    chars.len()
}

/// Character offset of a serde_json (line, column) inside `text` (column is 1-based).
fn column_offset(text: &str, line: usize, column: usize) -> usize {
    let before: usize = text
        .split('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count() + 1)
        .sum();
    (before + column.saturating_sub(1)).min(text.chars().count())
}

/// Helm decodes JSON into Go `interface{}`, where every number is a float64.
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typing_follows_helm() {
        assert_eq!(typed("TrUe"), json!(true));
        assert_eq!(typed("nULL"), Value::Null);
        assert_eq!(typed("-5"), json!(-5));
        assert_eq!(typed("+5"), json!(5));
        assert_eq!(typed("010"), json!("010"));
        assert_eq!(typed("1.5"), json!("1.5"));
        assert_eq!(typed("9223372036854775808"), json!("9223372036854775808"));
        assert_eq!(typed("1_000"), json!("1_000"));
        assert_eq!(typed("-"), json!("-"));
    }

    #[test]
    fn json_extent_stops_after_one_value() {
        let chars: Vec<char> = r#"{"a":"}"},b=2"#.chars().collect();
        assert_eq!(json_extent(&chars, 0), 9);
        let chars: Vec<char> = "12 ,x".chars().collect();
        assert_eq!(json_extent(&chars, 0), 2);
    }
}
