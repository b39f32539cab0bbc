//! What the live provider connects to, and how long it waits.

use std::path::PathBuf;
use std::time::Duration;

/// How long one lookup (discovery plus the request) may take, unless `--lookup-timeout` says.
pub const DEFAULT_LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// `--kubeconfig`, `--kube-context`, `--lookup-timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLookupSettings {
    /// A kubeconfig file; `None` means `$KUBECONFIG` or `~/.kube/config`, then the in-cluster
    /// service account, as kubectl and Helm do.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig; `None` means its `current-context`.
    pub context: Option<String>,
    /// Bound on each lookup, connection included.
    pub timeout: Duration,
}

impl Default for LiveLookupSettings {
    fn default() -> Self {
        LiveLookupSettings {
            kubeconfig: None,
            context: None,
            timeout: DEFAULT_LOOKUP_TIMEOUT,
        }
    }
}

/// Parse a Go-style duration as Helm's flags take them: `10s`, `1m30s`, `500ms`, `2h`.
/// A bare number is refused (it is ambiguous), and so is zero (it would fail every lookup).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let refuse =
        |why: &str| format!("invalid duration {text:?}: {why} (examples: 10s, 1m30s, 500ms)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(refuse("empty"));
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(refuse("expected a number"));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| refuse("malformed number"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(refuse("missing unit")),
            _ => return Err(refuse("unknown unit")),
        };
        rest = &rest[unit_len..];
        let part = Duration::try_from_secs_f64(number * seconds_per_unit)
            .map_err(|_| refuse("out of range"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| refuse("out of range"))?;
    }
    if total.is_zero() {
        return Err(refuse("must be greater than zero"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn refusals_name_the_value() {
        for bad in ["", "10", "s", "10x", "0s", "1..2s", "1e400h"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }
}
