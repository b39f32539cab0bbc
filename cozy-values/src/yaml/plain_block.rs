//! A quick reader for the YAML that templates render most: one block-style document of
//! mappings, lists and one-line scalars.
//!
//! Reading a rendered manifest back (to sort documents and catch invalid YAML) took a fifth
//! of a render through the full parser, which spends hundreds of instructions per byte on
//! generality no manifest uses. This reader takes a narrow, line-based subset and answers
//! `None` for anything outside it — anchors, tags, multi-line plain or quoted scalars, folded
//! or kept block scalars, flow mappings, tabs, unusual indentation, anything it is unsure
//! of — and the caller then uses the full parser. So it never has to report an error: every
//! invalid document falls outside the subset and gets the full parser's message.
//!
//! Where it answers, the value equals the full parser's (the same scalar resolution, the same
//! map type, the last of duplicate keys wins); a differential test holds it to that.

use std::borrow::Cow;

use serde_json::Value;

use super::scalar::{is_plain_string, json_of, resolve_plain};
use super::NumberMode;
use crate::Map;

/// The value of `text` when it is a mapping document inside the subset, else `None`.
pub(crate) fn read(text: &str, mode: NumberMode, max_depth: usize) -> Option<Value> {
    let allowed = if text.is_ascii() {
        text.bytes()
            .all(|b| b == b'\n' || (b' '..0x7f).contains(&b))
    } else {
        text.chars().all(allowed_char)
    };
    if !allowed {
        return None;
    }
    let lines = text
        .split('\n')
        .map(|raw| {
            let rest = raw.trim_start_matches(' ');
            Line {
                indent: raw.len() - rest.len(),
                rest,
            }
        })
        .collect::<Vec<_>>();
    if lines
        .iter()
        .any(|l| l.indent == 0 && (l.rest.starts_with("---") || l.rest.starts_with("...")))
    {
        return None;
    }
    let mut reader = Reader {
        lines,
        at: 0,
        mode,
        max_depth,
    };
    let Some(first) = reader.next_content() else {
        // Only comments and blank lines: an empty document.
        return Some(Value::Null);
    };
    let indent = reader.lines[first].indent;
    if indent != 0 || is_item(reader.lines[first].rest) {
        return None;
    }
    let root = reader.mapping(0, 0)?;
    // Everything must have been read: a line left over sits where the subset cannot place it.
    reader.next_content().is_none().then_some(root)
}

/// Tabs, carriage returns, control characters, the byte-order mark and the Unicode line
/// breaks have rules of their own; documents with them go to the full parser.
fn allowed_char(c: char) -> bool {
    match c {
        '\n' => true,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => false,
        '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    }
}

#[derive(Clone, Copy)]
struct Line<'t> {
    indent: usize,
    /// The line after its indentation.
    rest: &'t str,
}

struct Reader<'t> {
    lines: Vec<Line<'t>>,
    /// The next line to read.
    at: usize,
    mode: NumberMode,
    max_depth: usize,
}

/// A list item: `-` alone or followed by a space.
fn is_item(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

impl<'t> Reader<'t> {
    /// Index of the next line with content (not blank, not a comment), from `at` on.
    fn next_content(&mut self) -> Option<usize> {
        while self.at < self.lines.len() {
            let rest = self.lines[self.at].rest;
            if !(rest.is_empty() || rest.starts_with('#')) {
                return Some(self.at);
            }
            self.at += 1;
        }
        None
    }

    /// The next content line when it is indented exactly `indent`; `Err(())` when one is
    /// indented deeper (outside the subset); `Ok(None)` at the end of this block.
    fn at_indent(&mut self, indent: usize) -> Result<Option<usize>, ()> {
        match self.next_content() {
            Some(i) if self.lines[i].indent == indent => Ok(Some(i)),
            Some(i) if self.lines[i].indent > indent => Err(()),
            _ => Ok(None),
        }
    }

    /// A block mapping whose keys sit at column `indent`. Its values are one level deeper,
    /// so a mapping at the depth limit is left to the full parser (which refuses it unless
    /// it is empty, and a block mapping never is).
    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth >= self.max_depth {
            return None;
        }
        let mut map = Map::new();
        while let Some(i) = self.at_indent(indent).ok()? {
            let rest = self.lines[i].rest;
            if is_item(rest) {
                return None;
            }
            let (key, after) = split_key(rest)?;
            self.at = i + 1;
            let value = if after.is_empty() || after.starts_with('#') {
                self.nested(indent, depth + 1, true)?
            } else if let Some(chomp) = literal_header(after) {
                self.literal(indent, chomp)?
            } else {
                let value = self.inline(after, depth + 1)?;
                self.no_continuation(indent)?;
                value
            };
            map.insert(key.into_owned(), value);
        }
        Some(Value::Object(map))
    }

    /// The value of a key (or `-`) with nothing after it on its line: a deeper block, for a
    /// key also a list at the key's own column, or null.
    fn nested(&mut self, indent: usize, depth: usize, after_key: bool) -> Option<Value> {
        let Some(i) = self.next_content() else {
            return Some(Value::Null);
        };
        let Line {
            indent: inner,
            rest,
        } = self.lines[i];
        if inner > indent || (after_key && inner == indent && is_item(rest)) {
            if is_item(rest) {
                self.list(inner, depth)
            } else {
                self.mapping(inner, depth)
            }
        } else {
            Some(Value::Null)
        }
    }

    /// A block list whose dashes sit at column `indent`.
    fn list(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth >= self.max_depth {
            return None;
        }
        let mut items = Vec::new();
        while let Some(i) = self.at_indent(indent).ok()? {
            let rest = self.lines[i].rest;
            if !is_item(rest) {
                // A key at the dashes' column ends a list that sits under a key.
                break;
            }
            let after_dash = rest[1..].trim_start_matches(' ');
            let column = indent + (rest.len() - after_dash.len());
            if after_dash.is_empty() || after_dash.starts_with('#') {
                self.at = i + 1;
                items.push(self.nested(indent, depth + 1, false)?);
            } else if is_item(after_dash) || literal_header(after_dash).is_some() {
                return None;
            } else if split_key(after_dash).is_some() {
                // `- key: value`: a mapping whose first key shares the dash's line.
                self.lines[i] = Line {
                    indent: column,
                    rest: after_dash,
                };
                items.push(self.mapping(column, depth + 1)?);
            } else {
                self.at = i + 1;
                items.push(self.inline(after_dash, depth + 1)?);
                self.no_continuation(indent)?;
            }
        }
        Some(Value::Array(items))
    }

    /// After a one-line value, a deeper line would continue it (a multi-line scalar) or be
    /// an error: both are the full parser's business.
    fn no_continuation(&mut self, indent: usize) -> Option<()> {
        match self.next_content() {
            Some(i) if self.lines[i].indent > indent => None,
            _ => Some(()),
        }
    }

    /// A value that starts and ends on its line: quoted, a simple flow list, `{}`, or plain.
    fn inline(&self, text: &str, depth: usize) -> Option<Value> {
        match text.as_bytes()[0] {
            b'"' | b'\'' => {
                let (value, rest) = quoted(text)?;
                end_of_line(rest)?;
                Some(Value::String(value))
            }
            b'[' => self.flow_list(text, depth),
            b'{' => {
                end_of_line(text.strip_prefix("{}")?)?;
                (depth <= self.max_depth).then(|| Value::Object(Map::new()))
            }
            _ => self.plain(strip_comment(text)),
        }
    }

    fn plain(&self, text: &str) -> Option<Value> {
        if !plain_scalar(text) {
            return None;
        }
        json_of(resolve_plain(text), self.mode)
    }

    /// `[a, "b", 'c']` on one line, items scalars only.
    fn flow_list(&self, text: &str, depth: usize) -> Option<Value> {
        if depth >= self.max_depth {
            return None;
        }
        let mut rest = text[1..].trim_start_matches(' ');
        let mut items = Vec::new();
        if let Some(after) = rest.strip_prefix(']') {
            end_of_line(after)?;
            return Some(Value::Array(items));
        }
        loop {
            let after_item = if rest.starts_with(['"', '\'']) {
                let (value, after) = quoted(rest)?;
                items.push(Value::String(value));
                after
            } else {
                let end = rest.find([',', ']'])?;
                let item = rest[..end].trim_end_matches(' ');
                if item.contains([':', '#', '[', '{', '}', '"', '\'']) {
                    return None;
                }
                items.push(self.plain(item)?);
                &rest[end..]
            };
            let after_item = after_item.trim_start_matches(' ');
            if let Some(after) = after_item.strip_prefix(']') {
                end_of_line(after)?;
                return Some(Value::Array(items));
            }
            rest = after_item.strip_prefix(',')?.trim_start_matches(' ');
            if rest.is_empty() || rest.starts_with([',', ']']) {
                return None;
            }
        }
    }

    /// A literal block scalar (`|` or `|-`) under a key at column `indent`.
    fn literal(&mut self, indent: usize, chomp: Chomp) -> Option<Value> {
        let start = self.at;
        let mut content_indent = None;
        let mut last_content = None;
        let mut end = start;
        while end < self.lines.len() {
            let line = &self.lines[end];
            if !line.rest.is_empty() {
                match content_indent {
                    None if line.indent > indent => content_indent = Some(line.indent),
                    None => break,
                    Some(ci) if line.indent < ci => break,
                    Some(_) => {}
                }
                last_content = Some(end);
            }
            end += 1;
        }
        let (content_indent, last_content) = (content_indent?, last_content?);
        // Spaces on the empty lines that follow the content (where the document ends, too)
        // have rules of their own.
        if self.lines[last_content + 1..end]
            .iter()
            .any(|l| l.indent > 0)
        {
            return None;
        }
        let mut text = String::new();
        for (n, line) in self.lines[start..=last_content].iter().enumerate() {
            if n > 0 {
                text.push('\n');
            }
            if line.rest.is_empty() {
                // Spaces beyond the content's indentation on an empty line are content (or,
                // before the first line, an error): the full parser's business.
                if line.indent > content_indent {
                    return None;
                }
                continue;
            }
            text.extend(std::iter::repeat_n(' ', line.indent - content_indent));
            text.push_str(line.rest);
        }
        // `|` keeps the last line break, one the end of the document counts as.
        if chomp == Chomp::Clip {
            text.push('\n');
        }
        self.at = end;
        Some(Value::String(text))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    /// `|`: one final line break.
    Clip,
    /// `|-`: none.
    Strip,
}

/// `|` or `|-`, optionally followed by a comment.
fn literal_header(text: &str) -> Option<Chomp> {
    let (chomp, rest) = if let Some(rest) = text.strip_prefix("|-") {
        (Chomp::Strip, rest)
    } else {
        (Chomp::Clip, text.strip_prefix('|')?)
    };
    end_of_line(rest).map(|()| chomp)
}

/// `key: rest` or `key:` with a quoted key or a plain one that resolves to a string; the
/// rest is trimmed.
fn split_key(rest: &str) -> Option<(Cow<'_, str>, &str)> {
    if rest.starts_with(['"', '\'']) {
        let (key, after) = quoted(rest)?;
        let after = after.strip_prefix(':')?;
        if !(after.is_empty() || after.starts_with(' ')) || key.len() > 1024 {
            return None;
        }
        return Some((Cow::Owned(key), after.trim_start_matches(' ')));
    }
    let colon = rest
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| matches!(rest.as_bytes().get(i + 1), None | Some(b' ')))?;
    let key = &rest[..colon];
    // Implicit keys are at most 1024 characters in YAML; `<<` merges; a key that is not a
    // string (`on:`, `1:`, `null:`) is converted by rules the full parser owns.
    if key.len() > 1024
        || key.ends_with(' ')
        || key == "<<"
        || !plain_scalar(key)
        || !is_plain_string(key)
    {
        return None;
    }
    Some((
        Cow::Borrowed(key),
        rest[colon + 1..].trim_start_matches(' '),
    ))
}

/// Whether `text` (non-empty, no surrounding spaces, comment removed) is a plain scalar of
/// the subset: an ordinary first character, and no `: `, ` #` or final `:` that would make
/// it something else.
fn plain_scalar(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let ordinary_start = first.is_alphanumeric()
        || matches!(first, '.' | '/' | '_' | '+' | '$' | '(' | '~')
        || (first == '-' && chars.next().is_some_and(|c| c != ' '));
    ordinary_start
        && !text.ends_with([':', ' '])
        && !text
            .as_bytes()
            .windows(2)
            .any(|pair| pair == b": " || pair == b" #")
}

/// `text` up to a ` #` comment, without trailing spaces.
fn strip_comment(text: &str) -> &str {
    let end = text
        .as_bytes()
        .windows(2)
        .position(|pair| pair == b" #")
        .unwrap_or(text.len());
    text[..end].trim_end_matches(' ')
}

/// Nothing but spaces and an optional comment.
fn end_of_line(rest: &str) -> Option<()> {
    let trimmed = rest.trim_start_matches(' ');
    (trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())).then_some(())
}

/// A one-line quoted scalar at the start of `text` and what follows it. Double quotes take
/// the common escapes only; anything rarer is the full parser's.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text.as_bytes()[0];
    let body = &text[1..];
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if quote == b'\'' => {
                if body[i + 1..].starts_with('\'') {
                    value.push('\'');
                    chars.next();
                } else {
                    return Some((value, &body[i + 1..]));
                }
            }
            '"' if quote == b'"' => return Some((value, &body[i + 1..])),
            '\\' if quote == b'"' => {
                let (_, escaped) = chars.next()?;
                value.push(match escaped {
                    '\\' => '\\',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    _ => return None,
                });
            }
            _ => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(text: &str) -> Option<Value> {
        read(text, NumberMode::Native, 128)
    }

    #[test]
    fn reads_a_typical_manifest() {
        let text = "# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # trailing\n  labels:\n    app.kubernetes.io/name: \"demo\"\n    num: '1'\ndata:\n  script: |\n    #!/bin/sh\n\n    echo hi\n  ports:\n  - 80\n  - name: http\n    port: 8080\n  empty: {}\n  list: [a, \"b\", 3]\n";
        let value = fast(text).expect("inside the subset");
        assert_eq!(
            value,
            serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "demo", "num": "1"}},
                "data": {"script": "#!/bin/sh\n\necho hi\n",
                         "ports": [80, {"name": "http", "port": 8080}],
                         "empty": {}, "list": ["a", "b", 3]}
            })
        );
    }

    #[test]
    fn pieces() {
        for t in [
            "a: 1\n",
            "metadata:\n  name: a # trailing\n",
            "num: '1'\n",
            "a: \"demo\"\n",
            "data:\n  script: |\n    #!/bin/sh\n\n    echo hi\n  x: 1\n",
            "d:\n  ports:\n  - 80\n  - name: http\n    port: 8080\n",
            "a:\n  \"helm.sh/hook\": x\n  'b': 1\n",
            "# only a comment\n\n",
            "e: {}\n",
            "l: [a, \"b\", 3]\n",
            "# Source: x\na: 1",
        ] {
            assert!(fast(t).is_some(), "{t:?}");
        }
    }

    #[test]
    fn defers_what_it_does_not_know() {
        for text in [
            "a: &x 1\n",
            "a: *x\n",
            "a: !!str 1\n",
            "a: >\n  folded\n",
            "a: |+\n  kept\n",
            "a: b\n  continued\n",
            "a: \"multi\n  line\"\n",
            "a: {b: 1}\n",
            "a:\tb\n",
            "on: 1\n",
            "\"a\" : 1\n",
            "\"a\":b\n",
            "<<: {}\n",
            "- a\n",
            "  a: 1\n",
            "a: b: c\n",
            "a: 'x'y\n",
            "a: \"\\x41\"\n",
            "a: 1\nb: 2\n c: 3\n",
            "a: [b, [c]]\n",
            "a: .inf\n",
            "? a\n: b\n",
        ] {
            assert_eq!(fast(text), None, "{text:?}");
        }
    }

    #[test]
    fn depth_beyond_the_limit_is_deferred() {
        // `1` sits at depth 3 (the root is 0).
        let text = "a:\n  b:\n    c: 1\n";
        assert!(read(text, NumberMode::Native, 2).is_none());
        assert_eq!(read(text, NumberMode::Native, 3), full_with(text, 3));
        assert!(full_with(text, 2).is_none());
        assert!(read("a: [1]\n", NumberMode::Native, 1).is_none());
        assert!(full_with("a: [1]\n", 1).is_none());
    }

    /// What the full parser makes of `text`: its first document, or `None` on an error.
    fn full(text: &str) -> Option<Value> {
        full_with(text, super::super::Limits::default().max_depth)
    }

    fn full_with(text: &str, max_depth: usize) -> Option<Value> {
        full_in(text, max_depth, NumberMode::Native)
    }

    fn full_in(text: &str, max_depth: usize, mode: NumberMode) -> Option<Value> {
        let limits = super::super::Limits {
            max_depth,
            ..super::super::Limits::default()
        };
        super::super::loader::Builder::with_positions(text, "t", mode, &limits, false)
            .documents()
            .ok()
            .map(|docs| docs.into_iter().next().map_or(Value::Null, |d| d.value))
    }

    /// Traps: lines that break the subset's rules, or look like they might.
    const TRAPS: &[&str] = &[
        "on: 1",
        "1: a",
        "null: a",
        "<<: {}",
        "a b: c",
        "a:b: c",
        "-k: v",
        "x#y: 1",
        "~: 1",
        "\"q\": 1",
        "'q': 1",
        "\"q\" : 1",
        "\"q\":x",
        "'a''b': 1",
        "\"\": 1",
        "é: 1",
        "a : 1",
        "- a",
        "-",
        "  deeper: 1",
        " odd: 1",
        "---",
        "# comment",
        "",
        "   ",
        "a: b: c",
        "a: 'x'y",
        "a: \"\\x41\"",
        "a: \"\\u00e9\"",
        "a: [a, [b]]",
        "a: [a,]",
        "a: {a: 1}",
        "a: &x 1",
        "a: *x",
        "a: !!str 1",
        "a: |+",
        "a: >",
        "a: |2",
        "a: .inf",
        "a: @x",
        "a: `x",
        "a: %x",
        "a:\tb",
        "a: a # c",
        "a: a#c",
        "a: :x",
        "a: - x",
        "a: { }",
        "a: \"unclosed",
        "a: 'unclosed",
        "? a",
        ": b",
        "a: |",
        "    continued",
        "a: \"\"",
        "a: ''",
        "a:",
        "  - x",
        "- - x",
        "- |",
        "- a: |",
    ];

    /// Scalars as a template renders them, plain and quoted.
    const SCALARS: &[&str] = &[
        "v",
        "1",
        "010",
        "0x1F",
        "1.5",
        "1e3",
        "-2",
        "+3",
        ".5",
        "~",
        "null",
        "true",
        "on",
        "Yes",
        "\"s\"",
        "\"a\\nb\\t\\\"c\\\\\"",
        "'it''s'",
        "a # c",
        "--flag=1",
        "[a, b]",
        "[]",
        "[ 'x' , \"y\" ,1 ]",
        "{}",
        "http://x:80/p",
        "é",
        "' lead'",
        "\"#\"",
        "''",
        "\"\"",
        "a [b]",
        "9223372036854775808",
        "18446744073709551616",
        "1_000",
        "0o17",
        "-.5",
        "1.",
        "a'b",
        "a\"b",
        "(x)",
        "$x",
        "/p",
        "_u",
        "~x",
        "12:30",
        "a,b",
    ];

    /// A document in the subset's shapes (nested maps, lists indented or not, items that
    /// are maps, literal blocks, flow lists), with a trap line now and then.
    fn document() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let scalar = || prop::sample::select(SCALARS);
        let key = prop::sample::select(vec![
            "a",
            "name",
            "app.kubernetes.io/name",
            "k-1",
            "b",
            "\"helm.sh/hook\"",
            "'q''s'",
            "\"a\"",
        ]);
        let leaf = (key.clone(), scalar()).prop_map(|(k, v)| vec![format!("{k}: {v}")]);
        let block = (
            key.clone(),
            prop::sample::select(vec!["|", "|-", "| # c"]),
            proptest::collection::vec(
                prop::sample::select(vec!["#!/bin/sh", "echo hi", "", "  deeper", "k: v", "- i"]),
                1..4,
            ),
            prop::sample::select(vec!["", "  "]),
        )
            .prop_map(|(k, header, body, blank)| {
                let mut lines = vec![format!("{k}: {header}")];
                lines.extend(body.iter().map(|l| {
                    if l.is_empty() {
                        blank.to_string()
                    } else {
                        format!("  {l}")
                    }
                }));
                lines
            });
        let entries = prop_oneof![4 => leaf, 1 => block];
        let tree = entries.prop_recursive(3, 24, 4, move |inner| {
            let key = key.clone();
            prop_oneof![
                // key: with a deeper mapping
                (
                    key.clone(),
                    proptest::collection::vec(inner.clone(), 1..4),
                    1..4usize
                )
                    .prop_map(|(k, children, width)| {
                        let pad = " ".repeat(width);
                        let mut lines = vec![format!("{k}:")];
                        lines.extend(children.concat().into_iter().map(|l| format!("{pad}{l}")));
                        lines
                    }),
                // key: with a list of scalars or maps, at the key's column or deeper
                (
                    key,
                    proptest::collection::vec(
                        prop_oneof![
                            prop::sample::select(SCALARS).prop_map(|v| vec![v.to_string()]),
                            proptest::collection::vec(inner, 1..3).prop_map(|c| c.concat()),
                        ],
                        1..4,
                    ),
                    0..3usize,
                )
                    .prop_map(|(k, items, width)| {
                        let pad = " ".repeat(width);
                        let mut lines = vec![format!("{k}:")];
                        for item in items {
                            for (n, l) in item.into_iter().enumerate() {
                                let lead = if n == 0 { "- " } else { "  " };
                                lines.push(format!("{pad}{lead}{l}"));
                            }
                        }
                        lines
                    }),
            ]
        });
        (
            proptest::collection::vec(tree, 1..4),
            proptest::option::weighted(
                0.4,
                (prop::sample::select(TRAPS), any::<prop::sample::Index>()),
            ),
        )
            .prop_map(|(entries, trap)| {
                let mut lines = entries.concat();
                if let Some((trap, at)) = trap {
                    let at = at.index(lines.len() + 1);
                    lines.insert(at, trap.to_string());
                }
                lines.join("\n")
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// Wherever the quick reader answers, the full parser reads the same value (and does
        /// not refuse the document).
        #[test]
        fn agrees_with_the_full_parser(
            text in document(),
            final_newline in proptest::bool::ANY,
        ) {
            let mut text = text;
            if final_newline {
                text.push('\n');
            }
            if let Some(quick) = fast(&text) {
                proptest::prop_assert_eq!(Some(quick), full(&text), "{:?}", text);
            }
            if let Some(quick) = read(&text, NumberMode::Helm, 128) {
                proptest::prop_assert_eq!(Some(quick), full_in(&text, 128, NumberMode::Helm), "helm {:?}", text);
            }
            for max_depth in 1..4 {
                if let Some(quick) = read(&text, NumberMode::Native, max_depth) {
                    proptest::prop_assert_eq!(Some(quick), full_with(&text, max_depth), "depth {} {:?}", max_depth, text);
                }
            }
        }
    }

    /// The generator reaches the reader's answers, not only its refusals: a differential
    /// test that only ever saw `None` would prove nothing.
    #[test]
    fn the_generator_produces_documents_the_reader_accepts() {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let accepted = (0..2_000)
            .filter(|_| fast(&document().new_tree(&mut runner).unwrap().current()).is_some())
            .count();
        assert!(
            accepted > 400,
            "only {accepted} of 2000 generated documents were read"
        );
    }
}
