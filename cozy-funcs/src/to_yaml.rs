//! `toYaml` exactly as Helm writes it.
//!
//! Helm marshals through JSON into go-yaml v2 (libyaml's emitter): numbers are re-read from
//! their JSON text (so a float64 1000000 prints `1000000` and 1e21 `1e+21`), map keys sort
//! in go-yaml's natural order, sequences inside mappings are not indented, strings that
//! would read back as another type are double-quoted, long plain strings fold at 80 columns,
//! multi-line strings become literal blocks, and the final newline is dropped.

use std::cmp::Ordering;

use minijinja::value::Value;
use thiserror::Error;

use crate::access::{GoValue, MAX_NESTING};
use crate::go_print::{format_float_g, format_float_json};
use crate::yaml_resolve::{plain_reads_back_as_string, resolve_plain, PlainScalar};

/// A value that has no YAML (JSON) representation.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ToYamlError {
    #[error("json: unsupported value: {0}")]
    UnsupportedValue(String),
    #[error("json: unsupported type: {0}")]
    UnsupportedType(String),
    #[error("value is nested more than {MAX_NESTING} levels deep (does a map contain itself?)")]
    TooDeep,
}

/// Helm's `toYaml`: the YAML text of `value` without its final newline.
pub fn to_yaml(value: &Value) -> Result<String, ToYamlError> {
    let node = Node::from_value(value, 0)?;
    let mut emitter = Emitter::default();
    emitter.emit_node(&node, Context::Root);
    emitter.finish();
    let mut out = emitter.out;
    if out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// The YAML document tree after Helm's JSON round trip.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// An integer, as its decimal text.
    Int(String),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    pub(crate) fn from_value(value: &Value, depth: usize) -> Result<Node, ToYamlError> {
        if depth > MAX_NESTING {
            return Err(ToYamlError::TooDeep);
        }
        Ok(match GoValue::of(value) {
            GoValue::Nil => Node::Null,
            GoValue::Bool(b) => Node::Bool(b),
            GoValue::Int(i) => Node::Int(i.to_string()),
            GoValue::Uint(u) => Node::Int(u.to_string()),
            GoValue::Float(f) => float_node(f)?,
            GoValue::Str(s) => Node::Str(s),
            GoValue::Seq(items) => Node::Seq(
                items
                    .iter()
                    .map(|v| Node::from_value(v, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            GoValue::Map(entries) => {
                let mut pairs = entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Node::from_value(v, depth + 1)?)))
                    .collect::<Result<Vec<_>, ToYamlError>>()?;
                pairs.sort_by(|a, b| go_yaml_key_order(&a.0, &b.0));
                Node::Map(pairs)
            }
            GoValue::Other(s) => return Err(ToYamlError::UnsupportedType(s)),
        })
    }
}

/// A float64 as go-yaml re-reads it from Go's JSON text: integral values that fit 64 bits
/// become integers, the rest stay floats.
fn float_node(f: f64) -> Result<Node, ToYamlError> {
    if !f.is_finite() {
        return Err(ToYamlError::UnsupportedValue(format_float_g(f)));
    }
    let text = format_float_json(f);
    Ok(match resolve_plain(&text) {
        PlainScalar::Int(i) => Node::Int(i.to_string()),
        PlainScalar::Uint(u) => Node::Int(u.to_string()),
        PlainScalar::Float(x) => Node::Float(x),
        _ => Node::Float(f),
    })
}

/// go-yaml v2's map key order: runs of digits compare numerically, and a non-letter sorts
/// before a letter.
pub(crate) fn go_yaml_key_order(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// Where a node is being written.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Root,
    SequenceItem,
    MappingValue,
    MappingKey,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// libyaml's emitter state, reduced to block style (the only style go-yaml writes).
struct Emitter {
    out: String,
    column: usize,
    indent: i32,
    whitespace: bool,
    indention: bool,
}

impl Default for Emitter {
    fn default() -> Self {
        Emitter {
            out: String::new(),
            column: 0,
            indent: -1,
            whitespace: true,
            indention: true,
        }
    }
}

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_str(&mut self, s: &str) {
        for c in s.chars() {
            self.put(c);
        }
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.put_str(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn finish(&mut self) {
        // Implicit document end: terminate the last line (go-yaml writes no `...`, even
        // after a `|+` block).
        self.write_indent();
    }

    fn emit_node(&mut self, node: &Node, context: Context) {
        match node {
            Node::Map(entries) if entries.is_empty() => self.emit_empty_flow("{", "}"),
            Node::Seq(items) if items.is_empty() => self.emit_empty_flow("[", "]"),
            Node::Map(entries) => self.emit_block_mapping(entries),
            Node::Seq(items) => self.emit_block_sequence(items, context == Context::MappingValue),
            Node::Null => self.emit_scalar("null", Style::Plain, context),
            Node::Bool(b) => {
                self.emit_scalar(if *b { "true" } else { "false" }, Style::Plain, context)
            }
            Node::Int(text) => self.emit_scalar(text, Style::Plain, context),
            Node::Float(f) => {
                let text = match format_float_g(*f).as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    other => other.to_string(),
                };
                self.emit_scalar(&text, Style::Plain, context)
            }
            Node::Str(s) => {
                let requested = if s.contains('\n') {
                    Style::Literal
                } else if plain_reads_back_as_string(s) {
                    Style::Plain
                } else {
                    Style::DoubleQuoted
                };
                self.emit_scalar(s, requested, context)
            }
        }
    }

    fn emit_empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn emit_block_mapping(&mut self, entries: &[(String, Node)]) {
        let previous = self.indent;
        self.indent = if previous < 0 {
            0
        } else {
            previous + BEST_INDENT
        };
        for (key, value) in entries {
            self.write_indent();
            if is_simple_key(key) {
                self.emit_node(&Node::Str(key.clone()), Context::MappingKey);
                self.write_indicator(":", false, false, false);
            } else {
                // libyaml's complex key form: `? key` on its own, then `: value`.
                self.write_indicator("?", true, false, true);
                self.emit_node(&Node::Str(key.clone()), Context::MappingValue);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.emit_node(value, Context::MappingValue);
        }
        self.indent = previous;
    }

    fn emit_block_sequence(&mut self, items: &[Node], in_mapping: bool) {
        let previous = self.indent;
        let indentless = in_mapping && !self.indention;
        self.indent = if previous < 0 {
            0
        } else if indentless {
            previous
        } else {
            previous + BEST_INDENT
        };
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.emit_node(item, Context::SequenceItem);
        }
        self.indent = previous;
    }

    fn emit_scalar(&mut self, value: &str, requested: Style, context: Context) {
        let simple_key = context == Context::MappingKey;
        let style = select_style(value, requested, simple_key);
        let previous = self.indent;
        self.indent = if previous < 0 {
            BEST_INDENT
        } else {
            previous + BEST_INDENT
        };
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(value, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.indent = previous;
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !value.is_empty() && !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                // Only line separators other than `\n` get here (a `\n` makes the string
                // a literal block or double-quoted); libyaml writes them raw and indents the
                // continuation.
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c if (c as u32) <= 0xff => self.put_str(&format!("x{:02X}", c as u32)),
                    c if (c as u32) <= 0xffff => self.put_str(&format!("u{:04X}", c as u32)),
                    c => self.put_str(&format!("U{:08X}", c as u32)),
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let chomp = match chars.len() {
            0 => Some("-"),
            n if !is_break(chars[n - 1]) => Some("-"),
            1 => Some("+"),
            n if is_break(chars[n - 2]) => Some("+"),
            _ => None,
        };
        if let Some(hint) = chomp {
            self.write_indicator(hint, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// libyaml's `check_simple_key` for a string key: single-line and at most 128 bytes.
fn is_simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.chars().any(is_break)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` (4-byte UTF-8 characters count as non-printable).
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_blank_or_end(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c) || c == '\0',
    }
}

/// libyaml's `yaml_emitter_analyze_scalar`: which styles can represent `value`.
#[derive(Debug)]
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let (mut line_breaks, mut special_characters) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = is_blank_or_end(chars.get(i + 1).copied());
        let first = i == 0;
        let last = i == chars.len() - 1;
        if first {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                block_indicators = true;
            }
            if (c == '?' || c == ':') && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '-' && followed_by_whitespace {
                block_indicators = true;
            }
        } else {
            if c == ':' && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '#' && preceded_by_whitespace {
                block_indicators = true;
            }
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= first;
            trailing_break |= last;
            space_break |= previous_space;
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank_or_end(Some(c));
    }
    let mut analysis = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        analysis.block_plain_allowed = false;
    }
    if trailing_space {
        analysis.block_allowed = false;
    }
    if break_space {
        analysis.block_plain_allowed = false;
        analysis.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        analysis = Analysis {
            block_plain_allowed: false,
            single_quoted_allowed: false,
            block_allowed: false,
        };
    }
    if line_breaks || block_indicators {
        analysis.block_plain_allowed = false;
    }
    analysis
}

/// libyaml's `yaml_emitter_select_scalar_style` in block context.
fn select_style(value: &str, requested: Style, simple_key: bool) -> Style {
    let analysis = analyze(value);
    let mut style = requested;
    if style == Style::Plain && (!analysis.block_plain_allowed || (value.is_empty() && simple_key))
    {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!analysis.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(json: serde_json::Value) -> String {
        to_yaml(&Value::from(minijinja::value::Serde(json))).unwrap()
    }

    #[test]
    fn nested_layout_matches_helm() {
        let out = yaml(serde_json::json!({"b": [1, {"x": [1.0, 2.5]}], "a": {"c": {}, "d": []}}));
        assert_eq!(out, "a:\n  c: {}\n  d: []\nb:\n- 1\n- x:\n  - 1\n  - 2.5");
    }

    #[test]
    fn strings_are_quoted_only_when_needed() {
        let out = yaml(serde_json::json!([
            "true", "on", "", "a: b", "it's", "x", "a\tb", "1e3"
        ]));
        assert_eq!(
            out,
            "- \"true\"\n- \"on\"\n- \"\"\n- 'a: b'\n- it's\n- x\n- \"a\\tb\"\n- \"1e3\""
        );
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        assert_eq!(yaml(serde_json::json!({"m": "a\nb\n"})), "m: |\n  a\n  b");
        assert_eq!(yaml(serde_json::json!({"m": "a\nb"})), "m: |-\n  a\n  b");
    }

    #[test]
    fn key_order_is_natural() {
        let mut keys = vec!["a10", "a2", "_x", "B", "a"];
        keys.sort_by(|a, b| go_yaml_key_order(a, b));
        assert_eq!(keys, ["_x", "B", "a", "a2", "a10"]);
    }

    #[test]
    fn floats_take_their_json_form() {
        assert_eq!(
            yaml(serde_json::json!([1000000.0, 1e21, 0.00001])),
            "- 1000000\n- 1e+21\n- 1e-05"
        );
    }
}
