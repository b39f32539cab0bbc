//! Query-string parameters of list, watch and write requests.

use std::collections::BTreeMap;

/// Percent-decoding of one query component (`+` is a space, as in form encoding).
pub fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decoded query parameters; a repeated key keeps its last value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryParams {
    values: BTreeMap<String, String>,
}

impl QueryParams {
    pub fn parse(query: &str) -> Self {
        let values = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => (percent_decode(k), percent_decode(v)),
                None => (percent_decode(pair), String::new()),
            })
            .collect();
        QueryParams { values }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Non-empty value of `key`.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// Booleans as the apiserver reads them (`true`, `1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True" | "TRUE"))
    }

    /// A non-negative integer parameter; Err names the parameter and the bad value.
    pub fn number(&self, key: &str) -> Result<Option<u64>, String> {
        match self.non_empty(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                format!("invalid value for {key}: {v:?} is not a non-negative integer")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_selectors_and_flags() {
        let q = QueryParams::parse(
            "labelSelector=app%3Dweb%2Ctier+in+%28a%29&watch=1&limit=5&empty=&bad=%zz",
        );
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert!(q.flag("watch"));
        assert!(!q.flag("allowWatchBookmarks"));
        assert_eq!(q.number("limit"), Ok(Some(5)));
        assert_eq!(q.non_empty("empty"), None);
        assert_eq!(q.get("bad"), Some("%zz"));
        assert!(QueryParams::parse("limit=x").number("limit").is_err());
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
