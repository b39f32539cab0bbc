//! Named definitions: `{% define "name" %} ... {% enddefine %}` blocks in `templates/_*.tpl`.
//!
//! Each body becomes its own minijinja template. To keep error line numbers pointing into the
//! `_*.tpl` file, the body is prefixed with a comment spanning the lines before it, so line N of
//! the compiled body is line N of the file.

/// One definition block.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// Helm-style dotted name, e.g. `ouroboros.fullname`.
    pub name: String,
    /// The body, padded so that its line numbers match the file.
    pub body: String,
    /// 1-based line of the `define` tag.
    pub line: usize,
}

/// A malformed definition file.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionError {
    pub line: usize,
    pub message: String,
}

struct Tag {
    start: usize,
    end: usize,
    trim_before: bool,
    trim_after: bool,
    words: Vec<String>,
}

/// Find the next `{% ... %}` tag at or after `from`.
fn next_tag(text: &str, from: usize) -> Option<Tag> {
    let mut pos = from;
    loop {
        let start = pos + text[pos..].find("{%")?;
        let inner_start = start + 2;
        let close = inner_start + text[inner_start..].find("%}")?;
        let mut inner = &text[inner_start..close];
        let trim_before = inner.starts_with('-');
        if trim_before {
            inner = &inner[1..];
        }
        let trim_after = inner.ends_with('-');
        if trim_after {
            inner = &inner[..inner.len() - 1];
        }
        let words = split_words(inner);
        if matches!(
            words.first().map(String::as_str),
            Some("define") | Some("enddefine")
        ) {
            return Some(Tag {
                start,
                end: close + 2,
                trim_before,
                trim_after,
                words,
            });
        }
        pos = close + 2;
    }
}

fn split_words(inner: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = inner.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut w = String::from(c);
            for d in chars.by_ref() {
                w.push(d);
                if d == c {
                    break;
                }
            }
            words.push(w);
        } else {
            let mut w = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                w.push(d);
                chars.next();
            }
            words.push(w);
        }
    }
    words
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Extract every definition of one file. Text outside definitions is ignored.
pub fn parse_definitions(text: &str) -> Result<Vec<Definition>, DefinitionError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(open) = next_tag(text, pos) {
        let line = line_of(text, open.start);
        if open.words[0] != "define" {
            return Err(DefinitionError {
                line,
                message: "`enddefine` without a matching `define`".into(),
            });
        }
        let name = match open.words.get(1) {
            Some(q)
                if q.len() >= 2
                    && (q.starts_with('"') || q.starts_with('\''))
                    && q.ends_with(&q[..1]) =>
            {
                q[1..q.len() - 1].to_string()
            }
            _ => {
                return Err(DefinitionError {
                    line,
                    message: "`define` needs a quoted name: {% define \"chart.name\" %}".into(),
                })
            }
        };
        if open.words.len() > 2 {
            return Err(DefinitionError {
                line,
                message: format!("unexpected {:?} after the definition name", open.words[2]),
            });
        }
        let close = next_tag(text, open.end).ok_or_else(|| DefinitionError {
            line,
            message: format!("definition {name:?} has no `{{% enddefine %}}`"),
        })?;
        if close.words[0] != "enddefine" {
            return Err(DefinitionError {
                line: line_of(text, close.start),
                message: format!("definitions cannot nest: {name:?} is still open"),
            });
        }
        let mut body_start = open.end;
        let mut body_end = close.start;
        let raw = &text[body_start..body_end];
        if open.trim_after {
            body_start += raw.len() - raw.trim_start().len();
        } else if raw.starts_with('\n') {
            // trim_blocks: the newline right after a block tag is removed.
            body_start += 1;
        } else if raw.starts_with("\r\n") {
            body_start += 2;
        }
        if body_start > body_end {
            body_start = body_end;
        }
        let raw = &text[body_start..body_end];
        if close.trim_before {
            body_end -= raw.len() - raw.trim_end().len();
        } else {
            // lstrip_blocks: whitespace between the last newline and the tag is removed.
            let tail = &raw[raw.rfind('\n').map(|i| i + 1).unwrap_or(0)..];
            if tail.chars().all(|c| c == ' ' || c == '\t') && raw.contains('\n') {
                body_end -= tail.len();
            }
        }
        let body = &text[body_start..body_end];
        out.push(Definition {
            name,
            body: pad_to(text, body_start, body),
            line,
        });
        pos = close.end;
    }
    Ok(out)
}

/// Prefix `body` with an output-free comment so it starts at the same line as in `text`.
fn pad_to(text: &str, offset: usize, body: &str) -> String {
    let line = line_of(text, offset);
    if line == 1 {
        return body.to_string();
    }
    let col0 = offset - text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let mut padded = String::with_capacity(body.len() + line + col0 + 4);
    padded.push_str("{#");
    for _ in 1..line {
        padded.push('\n');
    }
    // Keep the column too when the body starts mid-line; otherwise the first line of the body
    // is shifted right by the two characters of the comment end.
    if col0 >= 2 {
        padded.push_str(&" ".repeat(col0 - 2));
    }
    padded.push_str("#}");
    padded.push_str(body);
    padded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_bodies_with_trim_rules() {
        let text = "{# header #}\n{% define \"a.b\" %}\nline1\n  {{ x }}\n{% enddefine %}\n\n{%- define 'c' -%}\n   body  \n  {%- enddefine %}\n";
        let defs = parse_definitions(text).unwrap();
        assert_eq!(defs.len(), 2);
        assert_eq!(defs[0].name, "a.b");
        assert_eq!(defs[0].line, 2);
        assert!(
            defs[0].body.ends_with("#}line1\n  {{ x }}\n"),
            "{:?}",
            defs[0].body
        );
        assert_eq!(defs[0].body.lines().count(), 4);
        assert_eq!(defs[1].name, "c");
        assert!(defs[1].body.ends_with("body"), "{:?}", defs[1].body);
    }

    #[test]
    fn unterminated_and_nested_are_errors() {
        assert!(parse_definitions("{% define \"x\" %}abc")
            .unwrap_err()
            .message
            .contains("no `{% enddefine %}`"));
        let err =
            parse_definitions("{% define \"x\" %}\n{% define \"y\" %}{% enddefine %}").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse_definitions("{% define x %}{% enddefine %}").is_err());
    }

    #[test]
    fn other_tags_are_left_in_the_body() {
        let defs =
            parse_definitions("{% define \"x\" %}{% if a %}1{% endif %}{% enddefine %}").unwrap();
        assert_eq!(defs[0].body, "{% if a %}1{% endif %}");
    }
}
