//! Pins in a package Makefile: `<NAME>_CHART_VERSION ?= 0.7.0`,
//! `<NAME>_CHART_DIGEST ?= sha256:<64 hex>` (`?=`, `:=` and `=` are all accepted).

use std::sync::OnceLock;

use regex::Regex;

/// One `<NAME>_CHART_VERSION` / `<NAME>_CHART_DIGEST` pair (either may be missing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChartPin {
    /// The `<NAME>` prefix, e.g. `OUROBOROS`.
    pub name: String,
    pub version: Option<(String, usize)>,
    pub digest: Option<(String, usize)>,
}

impl ChartPin {
    /// The vendored subchart directory name this pin is for (`OUROBOROS` → `ouroboros`,
    /// `INGRESS_NGINX` → `ingress-nginx`).
    pub fn chart_name(&self) -> String {
        self.name.to_ascii_lowercase().replace('_', "-")
    }
}

fn pin_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^\s*([A-Z0-9_]+)_CHART_(VERSION|DIGEST)\s*(\?=|:=|::=|=)\s*(\S*)\s*(#.*)?$")
            .expect("static regex")
    })
}

/// Every chart pin of a Makefile, in order of first appearance; line numbers are 1-based.
pub fn parse(text: &str) -> Vec<ChartPin> {
    let mut pins: Vec<ChartPin> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(c) = pin_re().captures(line) else {
            continue;
        };
        let name = c[1].to_string();
        let value = (c[4].to_string(), i + 1);
        let idx = match pins.iter().position(|p| p.name == name) {
            Some(idx) => idx,
            None => {
                pins.push(ChartPin {
                    name,
                    ..Default::default()
                });
                pins.len() - 1
            }
        };
        if &c[2] == "VERSION" {
            pins[idx].version = Some(value);
        } else {
            pins[idx].digest = Some(value);
        }
    }
    pins
}

/// `sha256:` followed by exactly 64 lower-case hex digits.
pub fn is_valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// Split an image tag pinned by digest: `0.7.0@sha256:...` → (`0.7.0`, `sha256:...`).
pub fn split_pinned_tag(tag: &str) -> Option<(&str, &str)> {
    tag.split_once('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pins_with_line_numbers() {
        let text = "NAME := x\nOUROBOROS_CHART_VERSION ?= 0.7.0\nOUROBOROS_CHART_DIGEST ?= sha256:abc # comment\nINGRESS_NGINX_CHART_VERSION = 4.1\n";
        let pins = parse(text);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].version, Some(("0.7.0".into(), 2)));
        assert_eq!(pins[0].digest, Some(("sha256:abc".into(), 3)));
        assert_eq!(pins[1].chart_name(), "ingress-nginx");
        assert_eq!(pins[1].digest, None);
    }

    #[test]
    fn digest_format() {
        let good = format!("sha256:{}", "a1".repeat(32));
        assert!(is_valid_digest(&good));
        assert!(!is_valid_digest(&good[..good.len() - 1]));
        assert!(!is_valid_digest(&good.to_uppercase()));
        assert!(!is_valid_digest(&format!("sha512:{}", "a1".repeat(32))));
        assert_eq!(
            split_pinned_tag("0.7.0@sha256:x"),
            Some(("0.7.0", "sha256:x"))
        );
    }
}
