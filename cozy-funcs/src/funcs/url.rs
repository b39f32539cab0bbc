//! `urlParse`: Go's `net/url.Parse`, returned as Sprig's map of URL parts.

use std::collections::BTreeMap;

use minijinja::value::Value;

use super::HelmFn;
use crate::args::Args;
use crate::error::{invalid, FuncResult};
use crate::mutable_map::MutableMap;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[("urlParse", url_parse)];

/// The parts Sprig exposes.
#[derive(Debug, Default, PartialEq)]
pub struct UrlParts {
    pub scheme: String,
    pub userinfo: String,
    pub host: String,
    pub hostname: String,
    pub path: String,
    pub query: String,
    pub opaque: String,
    pub fragment: String,
}

fn split_scheme(s: &str) -> Result<(String, &str), String> {
    for (i, c) in s.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err("missing protocol scheme".into()),
            ':' => return Ok((s[..i].to_ascii_lowercase(), &s[i + 1..])),
            _ => return Ok((String::new(), s)),
        }
    }
    Ok((String::new(), s))
}

/// Parses like `url.Parse` for the forms charts use.
pub fn parse_url(raw: &str) -> Result<UrlParts, String> {
    if raw.chars().any(|c| c.is_control()) {
        return Err(format!(
            "parse {raw:?}: net/url: invalid control character in URL"
        ));
    }
    let mut parts = UrlParts::default();
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, f),
        None => (raw, ""),
    };
    parts.fragment = fragment.to_string();
    let (scheme, rest) = split_scheme(rest).map_err(|e| format!("parse {raw:?}: {e}"))?;
    parts.scheme = scheme;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    parts.query = query.to_string();
    if !parts.scheme.is_empty() && !rest.starts_with('/') {
        parts.opaque = rest.to_string();
        return Ok(parts);
    }
    let path = if let Some(after) = rest.strip_prefix("//") {
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let host = match authority.rfind('@') {
            Some(i) => {
                parts.userinfo = authority[..i].to_string();
                &authority[i + 1..]
            }
            None => authority,
        };
        parts.host = host.to_string();
        parts.hostname = hostname_of(host);
        path
    } else {
        rest
    };
    parts.path = path.to_string();
    Ok(parts)
}

fn hostname_of(host: &str) -> String {
    if let Some(inner) = host.strip_prefix('[') {
        return inner.split(']').next().unwrap_or("").to_string();
    }
    match host.rfind(':') {
        Some(i) if host[i + 1..].chars().all(|c| c.is_ascii_digit()) => host[..i].to_string(),
        _ => host.to_string(),
    }
}

fn url_parse(values: &[Value]) -> FuncResult {
    let args = Args::new("urlParse", values);
    args.exact(1)?;
    let parts = parse_url(&args.string(0)?).map_err(|err| invalid("urlParse", err))?;
    let entries: BTreeMap<String, Value> = [
        ("scheme", parts.scheme),
        ("host", parts.host),
        ("hostname", parts.hostname),
        ("path", parts.path),
        ("query", parts.query),
        ("opaque", parts.opaque),
        ("fragment", parts.fragment),
        ("userinfo", parts.userinfo),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Value::from(v)))
    .collect();
    Ok(MutableMap::into_value(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let parts = parse_url("https://user:pw@host.example:8443/p/a?q=1&r=2#frag").unwrap();
        assert_eq!(parts.scheme, "https");
        assert_eq!(parts.userinfo, "user:pw");
        assert_eq!(parts.host, "host.example:8443");
        assert_eq!(parts.hostname, "host.example");
        assert_eq!(parts.path, "/p/a");
        assert_eq!(parts.query, "q=1&r=2");
        assert_eq!(parts.fragment, "frag");
    }

    #[test]
    fn scheme_without_slashes_is_opaque() {
        let parts = parse_url("host:80").unwrap();
        assert_eq!(
            (parts.scheme.as_str(), parts.opaque.as_str()),
            ("host", "80")
        );
    }
}
