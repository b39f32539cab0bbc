//! The owned marker block inside the first `.:53` server block (spec §8.2–8.4).
//!
//! Deviation from the original, on the spec's recommendation: marker anomalies (duplicate,
//! stray, reversed, damaged, or outside the `.:53` block) are reconcile errors naming the line,
//! not guesses. Guessing there either duplicates lines or leaves a block the uninstall refuses
//! to remove.

use super::{rewrite_line, validate_target, TargetError};
use crate::hostnames::{is_normalised, normalise, NormalisedHosts};
use crate::markers::{self, MarkerLine};

/// Indentation used when the server block has no non-blank line to copy it from.
const DEFAULT_INDENT: &str = "    ";

/// The result of applying the desired hosts to a Corefile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorefileEdit {
    /// The new Corefile text (identical to the input when `changed` is false).
    pub text: String,
    /// Whether `text` differs from the input.
    pub changed: bool,
}

/// Why a Corefile could not be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorefileEditError {
    /// The Corefile is empty.
    #[error("empty Corefile")]
    Empty,
    /// The rewrite target is unusable.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// There is no `.:53 {` line.
    #[error("no .:53 server block found")]
    NoServerBlock,
    /// The `.:53` block never closes.
    #[error("unclosed CoreDNS server block at .:53 (opened on line {line})")]
    UnclosedServerBlock {
        /// 1-based line of the opener.
        line: usize,
    },
    /// The markers are not one BEGIN followed by one END inside the `.:53` block.
    #[error("ouroboros markers need fixing by hand: {problem} (line {line})")]
    MarkerAnomaly {
        /// 1-based line of the offending marker.
        line: usize,
        /// What is wrong.
        problem: &'static str,
    },
}

/// Line span of the first `.:53` server block, 0-based indexes into the split lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ServerBlock {
    open: usize,
    close: usize,
}

/// Where the owned block currently is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnedSpan {
    Absent,
    Present { begin: usize, end: usize },
}

/// Applies the desired host set: inserts, replaces or removes the owned block.
pub fn apply_block<S: AsRef<str>>(
    corefile: &str,
    hosts: &[S],
    target: &str,
) -> Result<CorefileEdit, CorefileEditError> {
    apply_block_tracked(corefile, hosts, target).map(|(edit, _)| edit)
}

/// A Corefile with the position of its owned block, so that the next edit of the same text
/// re-renders only the block. At 10,000 hosts the text around the block is a few hundred bytes
/// but locating the block means reading every one of its lines; after the first edit the
/// controller already knows where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedCorefile {
    text: String,
    layout: BlockLayout,
}

/// Where the owned block sits in a text the editor produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLayout {
    /// Byte range of the block's lines, BEGIN to END, without the newline after END.
    block: std::ops::Range<usize>,
    /// The indentation `apply_block` would use on this text.
    indent: String,
}

impl EditedCorefile {
    /// Pairs an edited text with the layout [`apply_block_tracked`] reported for it.
    pub fn new(text: String, layout: BlockLayout) -> Self {
        Self { text, layout }
    }

    /// The Corefile text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Exactly what `apply_block_tracked(self.text(), hosts, target)` returns, without reading
    /// the text outside the block: the hosts are already normalised, only the target is
    /// validated, and only the block is rendered.
    pub fn reapply(
        &self,
        hosts: &NormalisedHosts,
        target: &str,
    ) -> Result<(CorefileEdit, Option<BlockLayout>), CorefileEditError> {
        validate_target(target)?;
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let desired = desired_block(&hosts, target, &self.layout.indent);
        let range = self.layout.block.clone();
        if desired == self.text[range.clone()] {
            let edit = CorefileEdit {
                text: self.text.clone(),
                changed: false,
            };
            return Ok((edit, Some(self.layout.clone())));
        }
        let before = &self.text[..range.start];
        let after = &self.text[range.end..];
        if desired.is_empty() {
            // Drop the block's lines and the newline that ended the last one.
            let text = [before, after.strip_prefix('\n').unwrap_or(after)].concat();
            return Ok((
                CorefileEdit {
                    text,
                    changed: true,
                },
                None,
            ));
        }
        let text = [before, desired.as_str(), after].concat();
        let layout = BlockLayout {
            block: range.start..range.start + desired.len(),
            indent: self.layout.indent.clone(),
        };
        Ok((
            CorefileEdit {
                text,
                changed: true,
            },
            Some(layout),
        ))
    }
}

/// [`apply_block`], also reporting where the block is in the result (None when there is no
/// block), for [`EditedCorefile`].
pub fn apply_block_tracked<S: AsRef<str>>(
    corefile: &str,
    hosts: &[S],
    target: &str,
) -> Result<(CorefileEdit, Option<BlockLayout>), CorefileEditError> {
    if corefile.is_empty() {
        return Err(CorefileEditError::Empty);
    }
    validate_target(target)?;
    let normalised;
    let hosts: Vec<&str> = if is_normalised(hosts) {
        hosts.iter().map(AsRef::as_ref).collect()
    } else {
        normalised = normalise(hosts);
        normalised.iter().map(String::as_str).collect()
    };
    let lines: Vec<&str> = corefile.split('\n').collect();
    let server = locate_root_block(&lines)?;
    let span = locate_owned_span(&lines, server)?;
    let indent = block_indent(&lines, server);
    let desired = desired_block(&hosts, target, indent);

    let (keep_before, keep_after) = match span {
        OwnedSpan::Present { begin, end } => (begin, end + 1),
        OwnedSpan::Absent if desired.is_empty() => {
            let edit = CorefileEdit {
                text: corefile.to_string(),
                changed: false,
            };
            return Ok((edit, None));
        }
        OwnedSpan::Absent => (server.close, server.close),
    };
    let mut out: Vec<&str> = Vec::with_capacity(lines.len() + 1);
    out.extend_from_slice(&lines[..keep_before]);
    if !desired.is_empty() {
        out.push(&desired);
    }
    out.extend_from_slice(&lines[keep_after..]);
    let text = out.join("\n");
    let changed = text != corefile;
    let layout = (!desired.is_empty()).then(|| {
        // keep_before >= 1: the server block's opening line always precedes the block.
        let start = lines[..keep_before]
            .iter()
            .map(|l| l.len() + 1)
            .sum::<usize>();
        // In the result, the last non-blank line of the server block is either an unchanged
        // line after the block or the block's own END marker.
        let indent_after = lines[keep_after..server.close.max(keep_after)]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| &l[..l.len() - l.trim_start().len()])
            .unwrap_or(indent);
        BlockLayout {
            block: start..start + desired.len(),
            indent: indent_after.to_string(),
        }
    });
    Ok((CorefileEdit { text, changed }, layout))
}

/// True for `.:53 {`, `.:53{` and whitespace variants, nothing else.
fn is_root_opener(line: &str) -> bool {
    line.trim()
        .strip_prefix(".:53")
        .is_some_and(|rest| rest.trim_start() == "{")
}

/// Brace depth change of one line, ignoring everything from the first `#`.
fn brace_delta(line: &str) -> i64 {
    let code = line.split('#').next().unwrap_or("");
    code.chars().fold(0, |depth, c| match c {
        '{' => depth + 1,
        '}' => depth - 1,
        _ => depth,
    })
}

fn locate_root_block(lines: &[&str]) -> Result<ServerBlock, CorefileEditError> {
    let open = lines
        .iter()
        .position(|l| is_root_opener(l))
        .ok_or(CorefileEditError::NoServerBlock)?;
    let mut depth: i64 = 1;
    for (idx, line) in lines.iter().enumerate().skip(open + 1) {
        depth += brace_delta(line);
        if depth <= 0 {
            return Ok(ServerBlock { open, close: idx });
        }
    }
    Err(CorefileEditError::UnclosedServerBlock { line: open + 1 })
}

fn locate_owned_span(lines: &[&str], server: ServerBlock) -> Result<OwnedSpan, CorefileEditError> {
    let anomaly = |idx: usize, problem| {
        Err(CorefileEditError::MarkerAnomaly {
            line: idx + 1,
            problem,
        })
    };
    let mut begin = None;
    let mut end = None;
    for (idx, line) in lines.iter().enumerate() {
        let kind = markers::classify(line);
        if kind == MarkerLine::None {
            continue;
        }
        let inside = idx > server.open && idx < server.close;
        if !inside {
            return anomaly(idx, "marker outside the .:53 server block");
        }
        match kind {
            MarkerLine::Damaged => return anomaly(idx, "marker line with extra or missing text"),
            MarkerLine::Begin if begin.is_some() => {
                return anomaly(idx, "more than one BEGIN marker")
            }
            MarkerLine::End if end.is_some() => return anomaly(idx, "more than one END marker"),
            MarkerLine::Begin => begin = Some(idx),
            MarkerLine::End => end = Some(idx),
            MarkerLine::None => {}
        }
    }
    match (begin, end) {
        (None, None) => Ok(OwnedSpan::Absent),
        (Some(b), None) => anomaly(b, "BEGIN marker without END marker"),
        (None, Some(e)) => anomaly(e, "END marker without BEGIN marker"),
        (Some(b), Some(e)) if e < b => anomaly(e, "END marker before BEGIN marker"),
        (Some(b), Some(e)) => Ok(OwnedSpan::Present { begin: b, end: e }),
    }
}

/// Leading whitespace of the last non-blank line inside the block; stable on re-apply because
/// that line is then the block's own END marker.
fn block_indent<'a>(lines: &[&'a str], server: ServerBlock) -> &'a str {
    lines[server.open + 1..server.close]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .unwrap_or(DEFAULT_INDENT)
}

/// The owned block as one piece of text (its lines joined by `\n`, no final newline), or empty
/// for no hosts. Built in one buffer: at 10,000 hosts this runs on every change.
fn desired_block(hosts: &[&str], target: &str, indent: &str) -> String {
    if hosts.is_empty() {
        return String::new();
    }
    let per_host = indent.len() + "rewrite name  \n".len() + target.len();
    let capacity = hosts.iter().map(|h| h.len() + per_host).sum::<usize>()
        + 2 * indent.len()
        + markers::BEGIN.len()
        + markers::END.len()
        + 1;
    let mut block = String::with_capacity(capacity);
    block.push_str(indent);
    block.push_str(markers::BEGIN);
    block.push('\n');
    for host in hosts {
        block.push_str(indent);
        block.push_str(&rewrite_line(host, target));
        block.push('\n');
    }
    block.push_str(indent);
    block.push_str(markers::END);
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markers::{BEGIN, END};

    const T: &str = "ouroboros-proxy.ouroboros.svc.cluster.local.";

    const KUBEADM: &str = ".:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
";

    fn apply(text: &str, hosts: &[&str]) -> CorefileEdit {
        apply_block(text, hosts, T).expect("apply")
    }

    #[test]
    fn inserts_block_before_closing_brace_with_block_indentation() {
        let edit = apply(KUBEADM, &["foo.example.com", "bar.example.com"]);
        assert!(edit.changed);
        let expected = KUBEADM.replace(
            "    loadbalance\n}",
            &format!(
                "    loadbalance\n    {BEGIN}\n    rewrite name bar.example.com {T}\n    rewrite name foo.example.com {T}\n    {END}\n}}"
            ),
        );
        assert_eq!(edit.text, expected);
    }

    #[test]
    fn reapply_is_byte_identical_and_unchanged() {
        let first = apply(KUBEADM, &["foo.example.com"]);
        let second = apply(&first.text, &["foo.example.com"]);
        assert!(!second.changed);
        assert_eq!(second.text, first.text);
    }

    #[test]
    fn duplicates_case_wildcards_and_blanks() {
        let edit = apply(
            KUBEADM,
            &[
                "Foo.example.com",
                "foo.example.com",
                "*.example.com",
                "",
                "  ",
            ],
        );
        assert_eq!(edit.text.matches("rewrite name").count(), 1);
        assert!(edit
            .text
            .contains(&format!("rewrite name foo.example.com {T}")));
        assert!(!edit.text.contains('*'));
    }

    #[test]
    fn changing_the_set_replaces_the_block_with_one_begin() {
        let first = apply(KUBEADM, &["a.example.com", "b.example.com"]);
        let second = apply(&first.text, &["c.example.com"]);
        assert!(second.changed);
        assert_eq!(second.text.matches(BEGIN).count(), 1);
        assert_eq!(second.text.matches(END).count(), 1);
        assert!(!second.text.contains("a.example.com"));
        assert!(second.text.contains("rewrite name c.example.com"));
    }

    #[test]
    fn empty_set_removes_block_and_restores_original() {
        let first = apply(KUBEADM, &["a.example.com"]);
        let removed = apply(&first.text, &[]);
        assert!(removed.changed);
        assert_eq!(removed.text, KUBEADM);
    }

    #[test]
    fn empty_set_without_block_is_exact_noop() {
        let edit = apply(KUBEADM, &[]);
        assert!(!edit.changed);
        assert_eq!(edit.text, KUBEADM);
    }

    #[test]
    fn trailing_newline_presence_is_preserved() {
        let without = KUBEADM.trim_end_matches('\n');
        let edit = apply(without, &["a.example.com"]);
        assert!(edit.text.ends_with("\n}"));
        let with = apply(KUBEADM, &["a.example.com"]);
        assert!(with.text.ends_with("\n}\n"));
        assert!(!with.text.ends_with("\n\n"));
    }

    #[test]
    fn only_first_root_block_is_edited_and_later_blocks_untouched() {
        let text = format!(
            "{KUBEADM}ext.example.com:53 {{\n    forward . 1.1.1.1\n}}\n.:53 {{\n    errors\n}}\n"
        );
        let edit = apply(&text, &["a.example.com"]);
        let first_close = edit.text.find("\n}\n").unwrap();
        assert!(edit.text[..first_close].contains(END));
        assert!(edit
            .text
            .ends_with("ext.example.com:53 {\n    forward . 1.1.1.1\n}\n.:53 {\n    errors\n}\n"));
    }

    #[test]
    fn glued_opener_and_tab_indentation() {
        let text = ".:53{\n\terrors\n}\n";
        let edit = apply(text, &["a.example.com"]);
        assert_eq!(
            edit.text,
            format!(".:53{{\n\terrors\n\t{BEGIN}\n\trewrite name a.example.com {T}\n\t{END}\n}}\n")
        );
    }

    #[test]
    fn empty_server_block_uses_four_spaces() {
        let edit = apply(".:53 {\n}\n", &["a.example.com"]);
        assert_eq!(
            edit.text,
            format!(".:53 {{\n    {BEGIN}\n    rewrite name a.example.com {T}\n    {END}\n}}\n")
        );
        assert_eq!(apply(&edit.text, &[]).text, ".:53 {\n}\n");
    }

    #[test]
    fn one_line_server_block_closes_on_opener_only_when_braces_balance() {
        // A brace on a later line after comments: the `#` part is ignored.
        let text = ".:53 {\n    errors # }\n}\n";
        let edit = apply(text, &["a.example.com"]);
        assert!(edit
            .text
            .starts_with(".:53 {\n    errors # }\n    # === BEGIN"));
    }

    #[test]
    fn errors_for_unusable_inputs() {
        assert_eq!(
            apply_block("", &["a.com"], T),
            Err(CorefileEditError::Empty)
        );
        assert_eq!(
            apply_block(KUBEADM, &["a.com"], ""),
            Err(CorefileEditError::Target(TargetError::Empty))
        );
        assert!(matches!(
            apply_block(KUBEADM, &["a.com"], "proxy.local"),
            Err(CorefileEditError::Target(TargetError::NotFqdn(_)))
        ));
        assert_eq!(
            apply_block(".foo:53 {\n}\n", &["a.com"], T),
            Err(CorefileEditError::NoServerBlock)
        );
        assert_eq!(
            apply_block("errors\n", &["a.com"], T),
            Err(CorefileEditError::NoServerBlock)
        );
        assert_eq!(
            apply_block(".:53 {\n    errors\n", &["a.com"], T),
            Err(CorefileEditError::UnclosedServerBlock { line: 1 })
        );
        let msg = apply_block(".:53 {\n    errors\n", &["a.com"], T)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("unclosed CoreDNS server block at .:53"),
            "{msg}"
        );
    }

    #[test]
    fn non_root_openers_do_not_qualify() {
        for opener in [
            ".:8053 {",
            ".foo:53 {",
            "ext.example.com:53 {",
            ". {",
            "dns://.:53 {",
        ] {
            let text = format!("{opener}\n    errors\n}}\n");
            assert_eq!(
                apply_block(&text, &["a.com"], T),
                Err(CorefileEditError::NoServerBlock),
                "{opener}"
            );
        }
    }

    fn anomaly_line(text: &str) -> (usize, &'static str) {
        match apply_block(text, &["a.com"], T) {
            Err(CorefileEditError::MarkerAnomaly { line, problem }) => (line, problem),
            other => panic!("expected anomaly, got {other:?}"),
        }
    }

    #[test]
    fn marker_anomalies_are_errors_with_line_numbers() {
        let two_begins = format!(".:53 {{\n    {BEGIN}\n    {BEGIN}\n    {END}\n}}\n");
        assert_eq!(anomaly_line(&two_begins), (3, "more than one BEGIN marker"));
        let two_ends = format!(".:53 {{\n    {BEGIN}\n    {END}\n    {END}\n}}\n");
        assert_eq!(anomaly_line(&two_ends), (4, "more than one END marker"));
        let stray_begin = format!(".:53 {{\n    {BEGIN}\n    errors\n}}\n");
        assert_eq!(
            anomaly_line(&stray_begin),
            (2, "BEGIN marker without END marker")
        );
        let stray_end = format!(".:53 {{\n    errors\n    {END}\n}}\n");
        assert_eq!(
            anomaly_line(&stray_end),
            (3, "END marker without BEGIN marker")
        );
        let reversed = format!(".:53 {{\n    {END}\n    errors\n    {BEGIN}\n}}\n");
        assert_eq!(
            anomaly_line(&reversed),
            (2, "END marker before BEGIN marker")
        );
        let outside = format!("{BEGIN}\n.:53 {{\n    errors\n}}\n");
        assert_eq!(
            anomaly_line(&outside),
            (1, "marker outside the .:53 server block")
        );
        let damaged = format!(".:53 {{\n    {BEGIN} extra\n    {END}\n}}\n");
        assert_eq!(
            anomaly_line(&damaged),
            (2, "marker line with extra or missing text")
        );
        // Anomalies are reported even when the desired set is empty, so nothing is guessed.
        assert!(apply_block(&stray_begin, &[] as &[&str], T).is_err());
    }

    #[test]
    fn marker_in_other_server_block_is_an_anomaly() {
        let text =
            format!(".:53 {{\n    errors\n}}\nexample.org:53 {{\n    {BEGIN}\n    {END}\n}}\n");
        assert_eq!(
            anomaly_line(&text),
            (5, "marker outside the .:53 server block")
        );
    }

    #[test]
    fn indentation_is_taken_from_last_nonblank_line() {
        let text = ".:53 {\n  errors\n\n      \n}\n";
        let edit = apply(text, &["a.com"]);
        assert!(edit
            .text
            .contains(&format!("\n  {BEGIN}\n  rewrite name a.com {T}\n  {END}\n")));
    }

    #[test]
    fn refused_hosts_never_reach_the_corefile() {
        let edit = apply(KUBEADM, &["evil.com {\n}", "ok.example.com"]);
        assert!(edit.text.contains("rewrite name ok.example.com"));
        assert!(!edit.text.contains("evil"));
        assert!(crate::corefile::check_syntax(&edit.text).is_ok());
    }
}
