//! `semverCompare` with the constraint language Helm uses (Masterminds semver v3): `=`, `!=`,
//! `>`, `<`, `>=`, `<=`, `~`, `~>`, `^`, wildcards (`1.2.x`, `*`), hyphen ranges
//! (`1.2 - 1.4`), AND by space or comma, OR by `||`. A version with a pre-release only
//! satisfies a constraint that names a pre-release itself (`>=1.20-0`).

use std::cmp::Ordering;
use std::sync::OnceLock;

use minijinja::value::Value;
use regex::Regex;

use super::HelmFn;
use crate::args::Args;
use crate::error::{invalid, FuncResult};

pub(crate) const FUNCS: &[(&str, HelmFn)] =
    &[("semverCompare", semver_compare), ("semver", semver)];

const VERSION_CORE: &str = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const CONSTRAINT_VERSION: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPERATORS: &str = r"=|!=|>|<|>=|=>|<=|=<|~|~>|\^";

struct Patterns {
    version: Regex,
    segment: Regex,
    constraint: Regex,
    single: Regex,
    range: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let build = |p: String| Regex::new(&p).expect("semver patterns are valid");
        Patterns {
            version: build(format!("^{VERSION_CORE}$")),
            segment: build(format!(
                r"^(\s*({OPERATORS})?\s*({CONSTRAINT_VERSION})\s*\,?)+$"
            )),
            constraint: build(format!(r"({OPERATORS})?\s*({CONSTRAINT_VERSION})")),
            single: build(format!(r"^\s*({OPERATORS})?\s*({CONSTRAINT_VERSION})\s*$")),
            range: build(format!(
                r"\s*({CONSTRAINT_VERSION})\s+-\s+({CONSTRAINT_VERSION})\s*"
            )),
        }
    })
}

/// A parsed semantic version (build metadata is ignored for ordering).
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

impl Version {
    /// Parses a version as Masterminds' `NewVersion` does (`v` prefix and missing parts allowed).
    pub fn parse(s: &str) -> Option<Version> {
        let caps = patterns().version.captures(s)?;
        let part = |i: usize| -> Option<u64> {
            match caps.get(i) {
                Some(m) => m.as_str().trim_start_matches('.').parse().ok(),
                None => Some(0),
            }
        };
        Some(Version {
            major: part(1)?,
            minor: part(2)?,
            patch: part(3)?,
            pre: caps
                .get(5)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
        })
    }

    fn cmp(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_prerelease(&self.pre, &other.pre))
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (mut xs, mut ys) = (a.split('.'), b.split('.'));
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

/// One comparison, with the wildcard state of its version.
#[derive(Debug, Clone)]
struct Constraint {
    op: Op,
    version: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn is_wild(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_constraint(text: &str) -> Result<Constraint, String> {
    let caps = patterns()
        .single
        .captures(text)
        .ok_or_else(|| format!("improper constraint: {text}"))?;
    let op = match caps.get(1).map(|m| m.as_str()).unwrap_or("") {
        "" | "=" => Op::TildeOrEqual,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        _ => Op::Caret,
    };
    let group = |i: usize| caps.get(i).map(|m| m.as_str()).unwrap_or("");
    let (major, minor, patch, pre) = (group(3), group(4), group(5), group(6));
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let version_text = if is_wild(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_wild(minor.trim_start_matches('.')) || minor.is_empty() {
        minor_dirty = true;
        dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_wild(patch.trim_start_matches('.')) || patch.is_empty() {
        patch_dirty = true;
        dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        format!("{major}{minor}{patch}{pre}")
    };
    let version =
        Version::parse(&version_text).ok_or_else(|| format!("improper constraint: {text}"))?;
    Ok(Constraint {
        op,
        version,
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.version;
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        match self.op {
            Op::TildeOrEqual if self.dirty => self.tilde(v),
            Op::TildeOrEqual => v.cmp(c) == Ordering::Equal,
            Op::NotEqual => !self.not_equal_negated(v),
            Op::Greater => {
                if !self.dirty {
                    return v.cmp(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.cmp(c) == Ordering::Greater
            }
            Op::Less => v.cmp(c) == Ordering::Less,
            Op::GreaterEqual => v.cmp(c) != Ordering::Less,
            Op::LessEqual => {
                if !self.dirty {
                    return v.cmp(c) != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            Op::Tilde => self.tilde(v),
            Op::Caret => self.caret(v),
        }
    }

    /// Whether `v` matches the version of a `!=` constraint (wildcards included).
    fn not_equal_negated(&self, v: &Version) -> bool {
        let c = &self.version;
        if self.dirty {
            if c.major != v.major {
                return false;
            }
            if self.minor_dirty {
                return true;
            }
            if c.minor != v.minor {
                return false;
            }
            if self.patch_dirty {
                return compare_prerelease(&v.pre, &c.pre) == Ordering::Equal;
            }
        }
        v.cmp(c) == Ordering::Equal
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.version;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.version;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}

/// A parsed constraint expression: OR of ANDs.
#[derive(Debug, Clone)]
pub struct Constraints(Vec<Vec<Constraint>>);

impl Constraints {
    /// Parses a constraint expression; the error text is Masterminds'.
    pub fn parse(text: &str) -> Result<Constraints, String> {
        let p = patterns();
        let rewritten = p.range.replace_all(text, " >= ${1}, <= ${11} ");
        let mut groups = Vec::new();
        for segment in rewritten.split("||") {
            if !p.segment.is_match(segment) {
                return Err(format!("improper constraint: {segment}"));
            }
            let parts: Vec<Constraint> = p
                .constraint
                .find_iter(segment)
                .map(|m| parse_constraint(m.as_str()))
                .collect::<Result<_, _>>()?;
            groups.push(parts);
        }
        Ok(Constraints(groups))
    }

    /// Whether `version` satisfies any OR branch.
    pub fn check(&self, version: &Version) -> bool {
        self.0
            .iter()
            .any(|group| group.iter().all(|c| c.check(version)))
    }
}

fn semver_compare(values: &[Value]) -> FuncResult {
    let args = Args::new("semverCompare", values);
    args.exact(2)?;
    let (constraint, version) = (args.string(0)?, args.string(1)?);
    let constraints =
        Constraints::parse(&constraint).map_err(|err| invalid("semverCompare", err))?;
    let version = Version::parse(version.trim())
        .ok_or_else(|| invalid("semverCompare", "invalid semantic version"))?;
    Ok(Value::from(constraints.check(&version)))
}

/// `semver "1.2.3"`: the parsed version as a map of its parts.
fn semver(values: &[Value]) -> FuncResult {
    let args = Args::new("semver", values);
    args.exact(1)?;
    let version = Version::parse(&args.string(0)?)
        .ok_or_else(|| invalid("semver", "invalid semantic version"))?;
    Ok(crate::mutable_map::MutableMap::into_value(
        [
            ("Major".to_string(), Value::from(version.major as i64)),
            ("Minor".to_string(), Value::from(version.minor as i64)),
            ("Patch".to_string(), Value::from(version.patch as i64)),
            ("Prerelease".to_string(), Value::from(version.pre)),
        ]
        .into_iter()
        .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, version: &str) -> bool {
        Constraints::parse(constraint)
            .unwrap()
            .check(&Version::parse(version).unwrap())
    }

    #[test]
    fn kubernetes_version_gates() {
        assert!(check(">=1.20-0", "v1.25.3+k3s1"));
        assert!(check(">=1.20-0", "1.21.0-rc.1"));
        assert!(!check(">=1.20", "1.21.0-rc.1"));
        assert!(!check("<1.19", "1.25.0"));
    }

    #[test]
    fn operators() {
        assert!(check("^1.2", "1.9.0"));
        assert!(!check("^1.2", "2.0.0"));
        assert!(!check("~1.2.3", "1.3.0"));
        assert!(check("~1.2.3", "1.2.9"));
        assert!(check(">1.0 <2.0 || >=3", "3.1.0"));
        assert!(check("1.2.x", "1.2.7"));
        assert!(check("1.2 - 1.4", "1.3.0"));
        assert!(!check("!=1.2.3", "1.2.3"));
    }

    #[test]
    fn bad_constraints_are_reported() {
        assert_eq!(
            Constraints::parse("garbage").unwrap_err(),
            "improper constraint: garbage"
        );
    }
}
