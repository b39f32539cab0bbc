//! Event-level YAML reader: builds JSON data from parser events, keeping the position of every
//! value path, resolving anchors, aliases and merge keys, and enforcing [`Limits`].

use std::collections::{BTreeMap, HashMap};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};
use serde_json::Value;

use super::scalar::{json_of, resolve_plain, resolve_tagged, Scalar};
use super::{Document, Limits, NumberMode, Position, Positions};
use crate::error::{SourceLocation, ValuesError};
use crate::path;
use crate::Map;

/// A built node: its value, how many nodes it holds (for the alias budget) and its height
/// (for the depth limit when an alias is pasted deeper than its anchor).
struct Built {
    value: Value,
    nodes: u64,
    height: usize,
}

struct Anchored {
    value: Value,
    nodes: u64,
    height: usize,
}

pub(super) struct Builder<'t> {
    parser: Parser<'t, StrInput<'t>>,
    file: &'t str,
    text: &'t str,
    mode: NumberMode,
    limits: &'t Limits,
    anchors: HashMap<usize, Anchored>,
    expanded_nodes: u64,
    /// `None` when the caller wants values only: no path strings are built at all, which
    /// halves the cost of re-reading rendered manifests.
    positions: Option<BTreeMap<String, Position>>,
}

impl<'t> Builder<'t> {
    pub(super) fn new(text: &'t str, file: &'t str, mode: NumberMode, limits: &'t Limits) -> Self {
        Self::with_positions(text, file, mode, limits, true)
    }

    /// A builder that records the position of every value path only when `track` is set.
    pub(super) fn with_positions(
        text: &'t str,
        file: &'t str,
        mode: NumberMode,
        limits: &'t Limits,
        track: bool,
    ) -> Self {
        Builder {
            parser: Parser::new_from_str(text),
            file,
            text,
            mode,
            limits,
            anchors: HashMap::new(),
            expanded_nodes: 0,
            positions: track.then(BTreeMap::new),
        }
    }

    /// Read every document of the stream.
    pub(super) fn documents(mut self) -> Result<Vec<Document>, ValuesError> {
        let mut documents = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(documents),
                Event::DocumentStart(_) => {
                    let start_line = span.start.line();
                    let (event, span) = self.next()?;
                    let built = self.node(event, span, String::new(), position(span), 0)?;
                    documents.push(Document {
                        value: built.value,
                        start_line,
                        positions: Positions(
                            self.positions
                                .as_mut()
                                .map(std::mem::take)
                                .unwrap_or_default(),
                        ),
                    });
                }
                other => {
                    return Err(
                        self.error_at(span, format!("unexpected {other:?} outside a document"))
                    )
                }
            }
        }
    }

    fn next(&mut self) -> Result<(Event<'t>, Span), ValuesError> {
        match self.parser.next_event() {
            Some(Ok(item)) => Ok(item),
            Some(Err(e)) => Err(self.scan_error(&e)),
            None => Err(self.error_line(
                self.text.lines().count().max(1),
                1,
                "unexpected end of input".into(),
            )),
        }
    }

    fn node(
        &mut self,
        event: Event<'t>,
        span: Span,
        path: String,
        at: Position,
        depth: usize,
    ) -> Result<Built, ValuesError> {
        if depth > self.limits.max_depth {
            return Err(self.error_at(
                span,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.note(path, at);
                let value = self.scalar(&text, style, tag.as_deref(), span)?;
                let built = Built {
                    value,
                    nodes: 1,
                    height: 0,
                };
                Ok(self.remember(anchor, built))
            }
            Event::SequenceStart(anchor, _) => {
                self.note(path.clone(), at);
                let mut items = Vec::new();
                let (mut nodes, mut height) = (1u64, 0usize);
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    let child = self.node(
                        event,
                        span,
                        self.child_path(&path, |p| path::child_index(p, items.len())),
                        position(span),
                        depth + 1,
                    )?;
                    nodes = nodes.saturating_add(child.nodes);
                    height = height.max(child.height + 1);
                    items.push(child.value);
                }
                Ok(self.remember(
                    anchor,
                    Built {
                        value: Value::Array(items),
                        nodes,
                        height,
                    },
                ))
            }
            Event::MappingStart(anchor, _) => {
                self.note(path.clone(), at);
                let built = self.mapping(path, depth)?;
                Ok(self.remember(anchor, built))
            }
            Event::Alias(id) => {
                self.note(path, at);
                self.alias(id, span, depth)
            }
            other => Err(self.error_at(span, format!("unexpected {other:?}"))),
        }
    }

    /// Records where the value at `path` starts (when positions are tracked).
    fn note(&mut self, path: String, at: Position) {
        if let Some(positions) = self.positions.as_mut() {
            positions.insert(path, at);
        }
    }

    /// The path of a child value, or an empty string when positions are not tracked.
    fn child_path(&self, parent: &str, child: impl FnOnce(&str) -> String) -> String {
        if self.positions.is_some() {
            child(parent)
        } else {
            String::new()
        }
    }

    fn mapping(&mut self, path: String, depth: usize) -> Result<Built, ValuesError> {
        let mut explicit = Map::new();
        let mut merged: Vec<(Map, Position)> = Vec::new();
        let (mut nodes, mut height) = (1u64, 0usize);
        loop {
            let (key_event, key_span) = self.next()?;
            if matches!(key_event, Event::MappingEnd) {
                break;
            }
            let is_merge = match &key_event {
                Event::Scalar(text, ScalarStyle::Plain, _, None) => text == "<<",
                Event::Scalar(_, _, _, Some(tag)) => {
                    tag.is_yaml_core_schema() && tag.suffix == "merge"
                }
                _ => false,
            };
            if is_merge {
                let (event, span) = self.next()?;
                let sources = self.merge_sources(event, span, &path, depth)?;
                for source in sources {
                    nodes = nodes.saturating_add(source.nodes);
                    height = height.max(source.height);
                    match source.value {
                        Value::Object(map) => merged.push((map, position(key_span))),
                        _ => {
                            return Err(self.error_at(
                                span,
                                "a merge key `<<` takes a mapping or a list of mappings".into(),
                            ))
                        }
                    }
                }
                continue;
            }
            let key = self.key(key_event, key_span)?;
            let child_path = self.child_path(&path, |p| path::child_key(p, &key));
            let (event, span) = self.next()?;
            // Point at the key, where a reader looks for "the line that sets this value".
            let child = self.node(event, span, child_path, position(key_span), depth + 1)?;
            nodes = nodes.saturating_add(child.nodes);
            height = height.max(child.height + 1);
            explicit.insert(key, child.value);
        }
        // Explicit keys win over merged ones; among merged mappings the earlier one wins.
        for (map, at) in merged {
            for (key, value) in map {
                if !explicit.contains_key(&key) {
                    if let Some(positions) = self.positions.as_mut() {
                        positions.entry(path::child_key(&path, &key)).or_insert(at);
                    }
                    explicit.insert(key, value);
                }
            }
        }
        Ok(Built {
            value: Value::Object(explicit),
            nodes,
            height,
        })
    }

    /// The mappings named by a merge key: one mapping (often an alias) or a list of them.
    fn merge_sources(
        &mut self,
        event: Event<'t>,
        span: Span,
        path: &str,
        depth: usize,
    ) -> Result<Vec<Built>, ValuesError> {
        match event {
            Event::SequenceStart(..) => {
                let mut sources = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        return Ok(sources);
                    }
                    sources.push(self.node(event, span, path.to_owned(), position(span), depth)?);
                }
            }
            other => Ok(vec![self.node(
                other,
                span,
                path.to_owned(),
                position(span),
                depth,
            )?]),
        }
    }

    fn alias(&mut self, id: usize, span: Span, depth: usize) -> Result<Built, ValuesError> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(self.error_at(span, "alias refers to an unknown anchor".into()));
        };
        let (nodes, height) = (anchored.nodes, anchored.height);
        self.expanded_nodes = self.expanded_nodes.saturating_add(nodes);
        if self.expanded_nodes > self.limits.max_alias_nodes {
            let limit = self.limits.max_alias_nodes;
            return Err(self.error_at(span, format!("aliases expand to more than {limit} nodes; refusing to expand (exponential alias nesting?)")));
        }
        if depth + height > self.limits.max_depth {
            return Err(self.error_at(
                span,
                format!(
                    "alias expands to nesting deeper than {} levels",
                    self.limits.max_depth
                ),
            ));
        }
        let value = self.anchors[&id].value.clone();
        Ok(Built {
            value,
            nodes,
            height,
        })
    }

    fn remember(&mut self, anchor: usize, built: Built) -> Built {
        if anchor != 0 {
            let copy = Anchored {
                value: built.value.clone(),
                nodes: built.nodes,
                height: built.height,
            };
            self.anchors.insert(anchor, copy);
        }
        built
    }

    /// Map keys become strings the way Helm converts YAML to JSON: `true`, `1`, `1.5`.
    fn key(&mut self, event: Event<'t>, span: Span) -> Result<String, ValuesError> {
        let resolved = match event {
            Event::Scalar(text, style, _, tag) => {
                self.resolve(&text, style, tag.as_deref(), span)?
            }
            Event::Alias(id) => match self.anchors.get(&id).map(|a| &a.value) {
                Some(Value::String(s)) => Scalar::Str(s.clone()),
                Some(Value::Bool(b)) => Scalar::Bool(*b),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .map(Scalar::Int)
                    .unwrap_or_else(|| Scalar::Float(n.as_f64().unwrap_or(0.0))),
                _ => return Err(self.error_at(span, "a map key must be a scalar".into())),
            },
            _ => {
                return Err(
                    self.error_at(span, "a map key must be a scalar, not a list or map".into())
                )
            }
        };
        match resolved {
            Scalar::Null => Err(self.error_at(span, "a map key cannot be null".into())),
            Scalar::Bool(b) => Ok(b.to_string()),
            Scalar::Int(i) => Ok(i.to_string()),
            Scalar::UInt(u) => Ok(u.to_string()),
            Scalar::Float(f) => Ok(go_float_key(f)),
            Scalar::Str(s) => Ok(s),
        }
    }

    fn resolve(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Scalar, ValuesError> {
        match tag {
            Some(tag) if tag.is_yaml_core_schema() => {
                resolve_tagged(text, &tag.suffix).map_err(|m| self.error_at(span, m))
            }
            // The non-specific tag `!` and application tags (`!custom`) leave the text a
            // string, as Helm reads them.
            Some(_) => Ok(Scalar::Str(text.to_owned())),
            _ if style == ScalarStyle::Plain => Ok(resolve_plain(text)),
            _ => Ok(Scalar::Str(text.to_owned())),
        }
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Value, ValuesError> {
        let scalar = self.resolve(text, style, tag, span)?;
        json_of(scalar, self.mode).ok_or_else(|| self.error_at(span, format!("{text:?} is not a finite number; values are JSON data, which has no infinity or NaN")))
    }

    fn scan_error(&self, e: &ScanError) -> ValuesError {
        let m = e.marker();
        self.error_line(m.line().max(1), m.col() + 1, e.info().to_owned())
    }

    fn error_at(&self, span: Span, message: String) -> ValuesError {
        self.error_line(span.start.line().max(1), span.start.col() + 1, message)
    }

    fn error_line(&self, line: usize, column: usize, message: String) -> ValuesError {
        ValuesError::Yaml {
            location: SourceLocation::in_text(self.file, self.text, line, column),
            message,
        }
    }
}

fn position(span: Span) -> Position {
    Position {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which Helm uses for float map keys.
fn go_float_key(f: f64) -> String {
    let sci = format!("{f:e}"); // e.g. "1.5e3", "-1e-5"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits = mantissa.chars().filter(char::is_ascii_digit).count() as i32;
    let eprec = if digits > 21 { digits } else { 21 };
    if exp < -4 || exp >= eprec {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::go_float_key;

    #[test]
    fn float_keys_print_like_go() {
        assert_eq!(go_float_key(1.5), "1.5");
        assert_eq!(go_float_key(1000.0), "1000");
        assert_eq!(go_float_key(1e21), "1e+21");
        assert_eq!(go_float_key(0.0001), "0.0001");
        assert_eq!(go_float_key(0.00001), "1e-05");
    }
}
