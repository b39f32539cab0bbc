//! The owned block in a hosts file: `<ip> <host>` lines between the shared markers, appended at
//! the end of the file. Marker anomalies are errors, as in the Corefile editor.

use std::net::IpAddr;

use crate::hostnames::normalise;
use crate::markers::{self, MarkerLine};

/// The result of applying the desired hosts to a hosts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsEdit {
    /// The new content.
    pub text: String,
    /// Whether `text` differs from the input.
    pub changed: bool,
}

/// Why a hosts file could not be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostsEditError {
    /// No proxy IP.
    #[error("empty IP")]
    EmptyIp,
    /// The proxy IP is not an IP literal.
    #[error("invalid IP {0:?}")]
    InvalidIp(String),
    /// The markers are not one BEGIN followed by one END.
    #[error("ouroboros markers need fixing by hand: {problem} (line {line})")]
    MarkerAnomaly {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: &'static str,
    },
}

/// Parses the proxy IP as the hosts-file mode requires it.
pub fn parse_proxy_ip(ip: &str) -> Result<IpAddr, HostsEditError> {
    if ip.is_empty() {
        return Err(HostsEditError::EmptyIp);
    }
    ip.parse()
        .map_err(|_| HostsEditError::InvalidIp(ip.to_string()))
}

/// Applies the desired hosts: replaces, removes or appends the owned block.
pub fn apply_hosts_block<S: AsRef<str>>(
    content: &str,
    hosts: &[S],
    ip: &str,
) -> Result<HostsEdit, HostsEditError> {
    let ip = parse_proxy_ip(ip)?;
    let hosts = normalise(hosts);
    let block: Vec<String> = if hosts.is_empty() {
        Vec::new()
    } else {
        std::iter::once(markers::BEGIN.to_string())
            .chain(hosts.iter().map(|h| format!("{ip} {h}")))
            .chain(std::iter::once(markers::END.to_string()))
            .collect()
    };
    let lines: Vec<&str> = content.split('\n').collect();
    let span = find_span(&lines)?;
    let (before, after) = match span {
        Some((b, e)) => (b, e + 1),
        None if block.is_empty() => {
            return Ok(HostsEdit {
                text: content.to_string(),
                changed: false,
            })
        }
        // Append before the final empty element that a trailing newline produces, so the file
        // keeps ending in exactly one newline. An empty file gets the block as its only lines.
        None if content.is_empty() => (0, 1),
        None if content.ends_with('\n') => (lines.len() - 1, lines.len() - 1),
        None => (lines.len(), lines.len()),
    };
    let mut out: Vec<&str> = Vec::with_capacity(lines.len() + block.len());
    out.extend_from_slice(&lines[..before]);
    out.extend(block.iter().map(String::as_str));
    out.extend_from_slice(&lines[after..]);
    let mut text = out.join("\n");
    if content.is_empty() && !text.is_empty() {
        text.push('\n');
    }
    let changed = text != content;
    Ok(HostsEdit { text, changed })
}

fn find_span(lines: &[&str]) -> Result<Option<(usize, usize)>, HostsEditError> {
    let anomaly = |idx: usize, problem| {
        Err(HostsEditError::MarkerAnomaly {
            line: idx + 1,
            problem,
        })
    };
    let (mut begin, mut end) = (None, None);
    for (idx, line) in lines.iter().enumerate() {
        match markers::classify(line) {
            MarkerLine::None => {}
            MarkerLine::Damaged => return anomaly(idx, "marker line with extra or missing text"),
            MarkerLine::Begin if begin.is_some() => {
                return anomaly(idx, "more than one BEGIN marker")
            }
            MarkerLine::End if end.is_some() => return anomaly(idx, "more than one END marker"),
            MarkerLine::Begin => begin = Some(idx),
            MarkerLine::End => end = Some(idx),
        }
    }
    match (begin, end) {
        (None, None) => Ok(None),
        (Some(b), None) => anomaly(b, "BEGIN marker without END marker"),
        (None, Some(e)) => anomaly(e, "END marker without BEGIN marker"),
        (Some(b), Some(e)) if e < b => anomaly(e, "END marker before BEGIN marker"),
        (Some(b), Some(e)) => Ok(Some((b, e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markers::{BEGIN, END};

    const BASE: &str = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";

    #[test]
    fn ip_validation() {
        assert_eq!(
            apply_hosts_block(BASE, &["a.com"], ""),
            Err(HostsEditError::EmptyIp)
        );
        assert_eq!(
            apply_hosts_block(BASE, &["a.com"], "not-an-ip"),
            Err(HostsEditError::InvalidIp("not-an-ip".into()))
        );
        assert!(apply_hosts_block(BASE, &["a.com"], "fd00::1").is_ok());
    }

    #[test]
    fn appends_before_final_newline_and_preserves_lines() {
        let edit = apply_hosts_block(
            BASE,
            &[
                "foo.example.com",
                "bar.example.com",
                "Bar.example.com",
                "*.x.com",
                " ",
            ],
            "10.96.1.2",
        )
        .unwrap();
        assert_eq!(
            edit.text,
            format!("{BASE}{BEGIN}\n10.96.1.2 bar.example.com\n10.96.1.2 foo.example.com\n{END}\n")
        );
        let again = apply_hosts_block(
            &edit.text,
            &["foo.example.com", "bar.example.com"],
            "10.96.1.2",
        )
        .unwrap();
        assert!(!again.changed);
        assert_eq!(again.text, edit.text);
    }

    #[test]
    fn no_trailing_newline_stays_without_one() {
        let base = "127.0.0.1 localhost";
        let edit = apply_hosts_block(base, &["a.com"], "10.0.0.1").unwrap();
        assert_eq!(
            edit.text,
            format!("127.0.0.1 localhost\n{BEGIN}\n10.0.0.1 a.com\n{END}")
        );
        let removed = apply_hosts_block(&edit.text, &[] as &[&str], "10.0.0.1").unwrap();
        assert_eq!(removed.text, base);
    }

    #[test]
    fn replace_remove_and_noop() {
        let added = apply_hosts_block(BASE, &["a.com"], "10.0.0.1").unwrap();
        let replaced = apply_hosts_block(&added.text, &["b.com"], "10.0.0.1").unwrap();
        assert!(replaced.changed);
        assert_eq!(replaced.text.matches(BEGIN).count(), 1);
        assert!(replaced.text.contains("10.0.0.1 b.com\n") && !replaced.text.contains("a.com"));
        let removed = apply_hosts_block(&replaced.text, &[] as &[&str], "10.0.0.1").unwrap();
        assert_eq!(removed.text, BASE);
        let noop = apply_hosts_block(BASE, &[] as &[&str], "10.0.0.1").unwrap();
        assert!(!noop.changed);
        assert_eq!(noop.text, BASE);
    }

    #[test]
    fn empty_file_gets_block_with_newline() {
        let edit = apply_hosts_block("", &["a.com"], "10.0.0.1").unwrap();
        assert_eq!(edit.text, format!("{BEGIN}\n10.0.0.1 a.com\n{END}\n"));
        assert!(
            !apply_hosts_block(&edit.text, &["a.com"], "10.0.0.1")
                .unwrap()
                .changed
        );
    }

    #[test]
    fn ipv6_is_canonical_and_anomalies_error() {
        let edit = apply_hosts_block(BASE, &["a.com"], "fd00:0:0:0:0:0:0:7").unwrap();
        assert!(edit.text.contains("fd00::7 a.com\n"));
        let stray = format!("{BASE}{BEGIN}\n");
        assert_eq!(
            apply_hosts_block(&stray, &["a.com"], "10.0.0.1"),
            Err(HostsEditError::MarkerAnomaly {
                line: 3,
                problem: "BEGIN marker without END marker"
            })
        );
    }
}
