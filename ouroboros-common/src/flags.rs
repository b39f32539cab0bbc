//! A command-line parser compatible with Go's `flag` package, plus environment twins.
//!
//! Deployed manifests pass arguments in Go `flag` syntax (`-name value`, `--name=value`,
//! bare booleans) and set `<PREFIX><NAME>` environment variables, so both binaries must
//! accept exactly that. Precedence is default < environment < flag. The environment is
//! applied first and every invalid environment value is reported at once, before any
//! flag is looked at, so an operator fixes a broken manifest in one round.
//!
//! Flags are declared on a [`FlagSet`], which hands back a typed [`Flag`] handle;
//! [`FlagSet::parse`] returns [`ParsedFlags`], from which each handle reads its value.
//!
//! ```
//! use ouroboros_common::flags::FlagSet;
//! let mut set = FlagSet::new("proxy", "EXAMPLE_");
//! let listen = set.string("listen-http", ":8080", "HTTP listen address");
//! let port = set.int("target-http-port", 80, "backend HTTP port");
//! let args: Vec<String> = ["--listen-http=:9090", "-target-http-port", "0x50"].map(String::from).into();
//! let parsed = set.parse(&args, |_| None).unwrap();
//! assert_eq!(parsed.get(listen), ":9090");
//! assert_eq!(parsed.get(port), 80);
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::marker::PhantomData;

use crate::duration::SignedDuration;

/// Values of a repeatable `key=value` flag; a repeated key keeps its last value.
pub type KeyValues = BTreeMap<String, String>;

/// A value held by a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagValue {
    String(String),
    Bool(bool),
    Int(i64),
    Duration(SignedDuration),
    KeyValues(KeyValues),
}

/// Where the effective value of a flag came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSource {
    Default,
    Env,
    Flag,
}

/// One invalid environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvProblem {
    pub variable: String,
    pub value: String,
    pub reason: String,
}

/// Why the command line or environment was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    #[error("invalid environment: {}", describe_env_problems(.0))]
    InvalidEnv(Vec<EnvProblem>),
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    #[error("bad flag syntax: {0}")]
    BadSyntax(String),
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    #[error("invalid value {value:?} for flag -{name}: {reason}")]
    InvalidValue {
        name: String,
        value: String,
        reason: String,
    },
    /// `-h`/`-help` was given and no such flag is defined; callers print [`FlagSet::usage`].
    #[error("flag: help requested")]
    HelpRequested,
}

fn describe_env_problems(problems: &[EnvProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}={:?}: {}", p.variable, p.value, p.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A handle to one declared flag; read its value with [`ParsedFlags::get`].
#[derive(Debug)]
pub struct Flag<T> {
    index: usize,
    marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Flag<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Flag<T> {}

/// Types a flag can hold; implemented for `String`, `bool`, `i64`, [`SignedDuration`]
/// and [`KeyValues`].
pub trait FlagType: Sized {
    fn from_value(value: &FlagValue) -> Option<Self>;
}

impl FlagType for String {
    fn from_value(value: &FlagValue) -> Option<Self> {
        match value {
            FlagValue::String(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FlagType for bool {
    fn from_value(value: &FlagValue) -> Option<Self> {
        match value {
            FlagValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
}
impl FlagType for i64 {
    fn from_value(value: &FlagValue) -> Option<Self> {
        match value {
            FlagValue::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FlagType for SignedDuration {
    fn from_value(value: &FlagValue) -> Option<Self> {
        match value {
            FlagValue::Duration(d) => Some(*d),
            _ => None,
        }
    }
}
impl FlagType for KeyValues {
    fn from_value(value: &FlagValue) -> Option<Self> {
        match value {
            FlagValue::KeyValues(m) => Some(m.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct FlagDef {
    name: String,
    default: FlagValue,
    usage: String,
    has_env: bool,
}

/// The declared flags of one command.
#[derive(Debug, Clone)]
pub struct FlagSet {
    program: String,
    env_prefix: String,
    defs: Vec<FlagDef>,
}

/// The outcome of a successful parse.
#[derive(Debug, Clone)]
pub struct ParsedFlags {
    values: Vec<FlagValue>,
    sources: Vec<ValueSource>,
    remaining: Vec<String>,
}

impl ParsedFlags {
    /// The effective value of `flag`. A handle from a different [`FlagSet`] is a
    /// programming error; it reads as the type's default rather than panicking.
    pub fn get<T: FlagType + Default>(&self, flag: Flag<T>) -> T {
        self.values
            .get(flag.index)
            .and_then(T::from_value)
            .unwrap_or_default()
    }

    /// Whether the value is the default, or was set by the environment or a flag.
    pub fn source<T>(&self, flag: Flag<T>) -> ValueSource {
        self.sources
            .get(flag.index)
            .copied()
            .unwrap_or(ValueSource::Default)
    }

    /// Arguments from the first non-flag argument on (a `--` terminator is dropped).
    pub fn remaining(&self) -> &[String] {
        &self.remaining
    }
}

impl FlagSet {
    /// A set for `program`. Every flag except key=value ones gets an environment twin
    /// `<env_prefix><NAME>`; an empty prefix means no environment twins at all.
    pub fn new(program: impl Into<String>, env_prefix: impl Into<String>) -> Self {
        FlagSet {
            program: program.into(),
            env_prefix: env_prefix.into(),
            defs: Vec::new(),
        }
    }

    pub fn string(&mut self, name: &str, default: &str, usage: &str) -> Flag<String> {
        self.define(name, FlagValue::String(default.to_string()), usage, true)
    }

    /// A boolean flag: bare `-name` sets it, `-name=false` clears it.
    pub fn bool(&mut self, name: &str, default: bool, usage: &str) -> Flag<bool> {
        self.define(name, FlagValue::Bool(default), usage, true)
    }

    /// An integer flag. On the command line it accepts Go's radix prefixes (`0x`, `0o`,
    /// `0b`, leading `0`) and `_` separators; in the environment, plain base 10 only.
    pub fn int(&mut self, name: &str, default: i64, usage: &str) -> Flag<i64> {
        self.define(name, FlagValue::Int(default), usage, true)
    }

    pub fn duration(
        &mut self,
        name: &str,
        default: SignedDuration,
        usage: &str,
    ) -> Flag<SignedDuration> {
        self.define(name, FlagValue::Duration(default), usage, true)
    }

    /// A repeatable `key=value` flag (split at the first `=`, empty value allowed, empty
    /// key rejected, last value wins). It has no environment twin.
    pub fn key_values(&mut self, name: &str, usage: &str) -> Flag<KeyValues> {
        self.define(name, FlagValue::KeyValues(KeyValues::new()), usage, false)
    }

    /// Removes the environment twin of an already declared flag.
    pub fn without_env<T>(&mut self, flag: Flag<T>) {
        if let Some(def) = self.defs.get_mut(flag.index) {
            def.has_env = false;
        }
    }

    fn define<T>(&mut self, name: &str, default: FlagValue, usage: &str, has_env: bool) -> Flag<T> {
        debug_assert!(self.find(name).is_none(), "flag -{name} declared twice");
        self.defs.push(FlagDef {
            name: name.to_string(),
            default,
            usage: usage.to_string(),
            has_env,
        });
        Flag {
            index: self.defs.len() - 1,
            marker: PhantomData,
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.defs.iter().position(|def| def.name == name)
    }

    /// The environment variable that feeds the flag called `name`, if it has one.
    pub fn env_var_name(&self, name: &str) -> Option<String> {
        let def = &self.defs[self.find(name)?];
        (def.has_env && !self.env_prefix.is_empty()).then(|| {
            format!(
                "{}{}",
                self.env_prefix,
                def.name.to_ascii_uppercase().replace('-', "_")
            )
        })
    }

    /// Parses the process environment and then `args` (which exclude the program name).
    pub fn parse_process(&self, args: &[String]) -> Result<ParsedFlags, FlagError> {
        self.parse(args, |var| std::env::var(var).ok())
    }

    /// Applies defaults, then the environment (looked up with `env`; empty = unset), then
    /// `args`. Parsing stops at the first argument that is not a flag.
    pub fn parse(
        &self,
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ParsedFlags, FlagError> {
        let mut values: Vec<FlagValue> = self.defs.iter().map(|def| def.default.clone()).collect();
        let mut sources = vec![ValueSource::Default; self.defs.len()];
        self.apply_env(&env, &mut values, &mut sources)?;
        let remaining = self.apply_args(args, &mut values, &mut sources)?;
        Ok(ParsedFlags {
            values,
            sources,
            remaining,
        })
    }

    fn apply_env(
        &self,
        env: &impl Fn(&str) -> Option<String>,
        values: &mut [FlagValue],
        sources: &mut [ValueSource],
    ) -> Result<(), FlagError> {
        let mut problems = Vec::new();
        for (index, def) in self.defs.iter().enumerate() {
            let Some(variable) = self.env_var_name(&def.name) else {
                continue;
            };
            let Some(raw) = env(&variable).filter(|value| !value.is_empty()) else {
                continue;
            };
            let parsed = match &def.default {
                FlagValue::String(_) => Ok(FlagValue::String(raw.clone())),
                FlagValue::Bool(_) => parse_bool(&raw).map(FlagValue::Bool),
                FlagValue::Int(_) => parse_decimal_int(&raw).map(FlagValue::Int),
                FlagValue::Duration(_) => SignedDuration::parse(&raw)
                    .map(FlagValue::Duration)
                    .map_err(|e| e.to_string()),
                FlagValue::KeyValues(_) => continue,
            };
            match parsed {
                Ok(value) => {
                    values[index] = value;
                    sources[index] = ValueSource::Env;
                }
                Err(reason) => problems.push(EnvProblem {
                    variable,
                    value: raw,
                    reason,
                }),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(FlagError::InvalidEnv(problems))
        }
    }

    fn apply_args(
        &self,
        args: &[String],
        values: &mut [FlagValue],
        sources: &mut [ValueSource],
    ) -> Result<Vec<String>, FlagError> {
        let mut position = 0;
        while let Some(arg) = args.get(position) {
            if arg.len() < 2 || !arg.starts_with('-') {
                break;
            }
            let body = match arg.strip_prefix("--") {
                Some("") => {
                    position += 1;
                    break;
                }
                Some(rest) => rest,
                None => &arg[1..],
            };
            if body.starts_with(['-', '=']) {
                return Err(FlagError::BadSyntax(arg.clone()));
            }
            position += 1;
            let (name, inline_value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (body, None),
            };
            let Some(index) = self.find(name) else {
                return Err(if name == "h" || name == "help" {
                    FlagError::HelpRequested
                } else {
                    FlagError::Unknown(name.to_string())
                });
            };
            let value = match (&values[index], inline_value) {
                (FlagValue::Bool(_), None) => "true",
                (_, Some(value)) => value,
                (_, None) => {
                    let next = args
                        .get(position)
                        .ok_or_else(|| FlagError::MissingValue(name.to_string()))?;
                    position += 1;
                    next.as_str()
                }
            };
            let invalid = |reason: String| FlagError::InvalidValue {
                name: name.to_string(),
                value: value.to_string(),
                reason,
            };
            let updated = match &values[index] {
                FlagValue::String(_) => FlagValue::String(value.to_string()),
                FlagValue::Bool(_) => FlagValue::Bool(parse_bool(value).map_err(invalid)?),
                FlagValue::Int(_) => FlagValue::Int(parse_go_int(value).map_err(invalid)?),
                FlagValue::Duration(_) => FlagValue::Duration(
                    SignedDuration::parse(value).map_err(|e| invalid(e.to_string()))?,
                ),
                FlagValue::KeyValues(existing) => {
                    let (key, item) = parse_key_value(value).map_err(invalid)?;
                    let mut map = if sources[index] == ValueSource::Flag {
                        existing.clone()
                    } else {
                        KeyValues::new()
                    };
                    map.insert(key, item);
                    FlagValue::KeyValues(map)
                }
            };
            values[index] = updated;
            sources[index] = ValueSource::Flag;
        }
        Ok(args[position.min(args.len())..].to_vec())
    }

    /// Usage text in the shape of Go's `PrintDefaults`, with each environment twin named.
    pub fn usage(&self) -> String {
        let mut text = format!("Usage of {}:\n", self.program);
        for def in &self.defs {
            let type_name = match &def.default {
                FlagValue::String(_) => " string",
                FlagValue::Bool(_) => "",
                FlagValue::Int(_) => " int",
                FlagValue::Duration(_) => " duration",
                FlagValue::KeyValues(_) => " key=value",
            };
            let _ = write!(text, "  --{}{type_name}\n    \t{}", def.name, def.usage);
            match &def.default {
                FlagValue::String(s) if !s.is_empty() => {
                    let _ = write!(text, " (default {s:?})");
                }
                FlagValue::Bool(true) => text.push_str(" (default true)"),
                FlagValue::Int(i) if *i != 0 => {
                    let _ = write!(text, " (default {i})");
                }
                FlagValue::Duration(d) if !d.is_zero() => {
                    let _ = write!(text, " (default {d})");
                }
                FlagValue::KeyValues(_) => text.push_str(" (repeatable)"),
                _ => {}
            }
            if let Some(variable) = self.env_var_name(&def.name) {
                let _ = write!(text, " [env {variable}]");
            }
            text.push('\n');
        }
        text
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err("parse error: want true or false".to_string()),
    }
}

/// Go's `strconv.ParseInt(text, 10, 64)`: optional sign, decimal digits only.
fn parse_decimal_int(text: &str) -> Result<i64, String> {
    let (negative, digits) = split_sign(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax: want a base-10 integer".to_string());
    }
    accumulate(negative, digits, 10)
}

/// Go's `strconv.ParseInt(text, 0, 64)`: radix from the prefix (`0x`, `0o`, `0b`,
/// leading `0` = octal), `_` allowed only between digits or after the prefix.
fn parse_go_int(text: &str) -> Result<i64, String> {
    const SYNTAX: &str = "invalid syntax";
    let (negative, body) = split_sign(text);
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Separators: never first unless a prefix precedes, never last, never doubled.
    let bytes = digits.as_bytes();
    let misplaced_separator = bytes.windows(2).any(|w| w == b"__")
        || bytes.last() == Some(&b'_')
        || (!prefixed && bytes.first() == Some(&b'_'));
    if misplaced_separator {
        return Err(SYNTAX.to_string());
    }
    let cleaned: String = digits.chars().filter(|&c| c != '_').collect();
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_digit(radix)) {
        return Err(SYNTAX.to_string());
    }
    accumulate(negative, &cleaned, radix)
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

fn accumulate(negative: bool, digits: &str, radix: u32) -> Result<i64, String> {
    let magnitude =
        u64::from_str_radix(digits, radix).map_err(|_| "value out of range".to_string())?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
            .ok_or_else(|| "value out of range".to_string())
    } else {
        i64::try_from(magnitude).map_err(|_| "value out of range".to_string())
    }
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected key=value, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fixture {
        set: FlagSet,
        host: Flag<String>,
        port: Flag<i64>,
        timeout: Flag<SignedDuration>,
        gateway: Flag<bool>,
        labels: Flag<KeyValues>,
    }

    fn fixture() -> Fixture {
        let mut set = FlagSet::new("test", "OUROBOROS_TEST_");
        let host = set.string("target-host", "", "backend host");
        let port = set.int("target-http-port", 80, "backend port");
        let timeout = set.duration("dial-timeout", SignedDuration::from_secs(5), "dial bound");
        let gateway = set.bool("gateway-api", false, "watch Gateway API");
        let labels = set.key_values("label", "extra label");
        Fixture {
            set,
            host,
            port,
            timeout,
            gateway,
            labels,
        }
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults() {
        let f = fixture();
        let parsed = f.set.parse(&[], no_env).unwrap();
        assert_eq!(parsed.get(f.host), "");
        assert_eq!(parsed.get(f.port), 80);
        assert_eq!(parsed.get(f.timeout), SignedDuration::from_secs(5));
        assert!(!parsed.get(f.gateway));
        assert!(parsed.get(f.labels).is_empty());
        assert_eq!(parsed.source(f.port), ValueSource::Default);
    }

    #[test]
    fn all_four_spellings() {
        let f = fixture();
        for spelling in [
            args(&["-target-host", "a"]),
            args(&["--target-host", "a"]),
            args(&["-target-host=a"]),
            args(&["--target-host=a"]),
        ] {
            let parsed = f.set.parse(&spelling, no_env).unwrap();
            assert_eq!(parsed.get(f.host), "a", "{spelling:?}");
            assert_eq!(parsed.source(f.host), ValueSource::Flag);
        }
    }

    #[test]
    fn empty_value_and_value_with_equals() {
        let f = fixture();
        let parsed = f
            .set
            .parse(
                &args(&["--target-host="]),
                env_of(&[("OUROBOROS_TEST_TARGET_HOST", "x")]),
            )
            .unwrap();
        assert_eq!(parsed.get(f.host), "");
        let parsed = f.set.parse(&args(&["--target-host=a=b"]), no_env).unwrap();
        assert_eq!(parsed.get(f.host), "a=b");
        let parsed = f
            .set
            .parse(&args(&["--target-host", "-dash"]), no_env)
            .unwrap();
        assert_eq!(parsed.get(f.host), "-dash");
    }

    #[test]
    fn booleans() {
        let f = fixture();
        assert!(f
            .set
            .parse(&args(&["--gateway-api"]), no_env)
            .unwrap()
            .get(f.gateway));
        assert!(!f
            .set
            .parse(&args(&["--gateway-api=false"]), no_env)
            .unwrap()
            .get(f.gateway));
        assert!(f
            .set
            .parse(&args(&["-gateway-api=T"]), no_env)
            .unwrap()
            .get(f.gateway));
        // A bare boolean never consumes the next word, which then ends parsing.
        let parsed = f
            .set
            .parse(
                &args(&["--gateway-api", "false", "--target-host=x"]),
                no_env,
            )
            .unwrap();
        assert!(parsed.get(f.gateway));
        assert_eq!(parsed.get(f.host), "");
        assert_eq!(parsed.remaining(), ["false", "--target-host=x"]);
        let err = f
            .set
            .parse(&args(&["--gateway-api=tru"]), no_env)
            .unwrap_err();
        assert!(
            matches!(&err, FlagError::InvalidValue { name, value, .. } if name == "gateway-api" && value == "tru")
        );
    }

    #[test]
    fn integers_with_go_radix() {
        let f = fixture();
        let cases = [
            ("8081", 8081),
            ("0x1F", 31),
            ("0o17", 15),
            ("017", 15),
            ("0b101", 5),
            ("1_000", 1000),
            ("0x_ff", 255),
            ("-12", -12),
            ("+7", 7),
            ("0", 0),
            ("-9223372036854775808", i64::MIN),
        ];
        for (text, want) in cases {
            let parsed = f
                .set
                .parse(&args(&["--target-http-port", text]), no_env)
                .unwrap();
            assert_eq!(parsed.get(f.port), want, "{text}");
        }
        for bad in [
            "eighty",
            "",
            "1__0",
            "_1",
            "1_",
            "09",
            "0x",
            "0b2",
            "9223372036854775808",
            "1.5",
        ] {
            let err = f
                .set
                .parse(&args(&["--target-http-port", bad]), no_env)
                .unwrap_err();
            assert!(
                matches!(err, FlagError::InvalidValue { .. }),
                "{bad:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn durations() {
        let f = fixture();
        let parsed = f
            .set
            .parse(&args(&["--dial-timeout=1m30s"]), no_env)
            .unwrap();
        assert_eq!(parsed.get(f.timeout), SignedDuration::from_secs(90));
        let err = f
            .set
            .parse(&args(&["--dial-timeout=5sec"]), no_env)
            .unwrap_err();
        assert!(err.to_string().contains("dial-timeout"), "{err}");
    }

    #[test]
    fn parsing_stops_at_first_non_flag() {
        let f = fixture();
        let parsed = f
            .set
            .parse(&args(&["--target-host=a", "serve", "--bogus"]), no_env)
            .unwrap();
        assert_eq!(parsed.get(f.host), "a");
        assert_eq!(parsed.remaining(), ["serve", "--bogus"]);
        let parsed = f
            .set
            .parse(&args(&["--", "--target-host=a"]), no_env)
            .unwrap();
        assert_eq!(parsed.get(f.host), "");
        assert_eq!(parsed.remaining(), ["--target-host=a"]);
        let parsed = f.set.parse(&args(&["-", "x"]), no_env).unwrap();
        assert_eq!(parsed.remaining(), ["-", "x"]);
    }

    #[test]
    fn errors() {
        let f = fixture();
        assert_eq!(
            f.set.parse(&args(&["--bogus"]), no_env).unwrap_err(),
            FlagError::Unknown("bogus".into())
        );
        assert_eq!(
            f.set
                .parse(&args(&["--bogus"]), no_env)
                .unwrap_err()
                .to_string(),
            "flag provided but not defined: -bogus"
        );
        assert_eq!(
            f.set.parse(&args(&["--target-host"]), no_env).unwrap_err(),
            FlagError::MissingValue("target-host".into())
        );
        assert_eq!(
            f.set.parse(&args(&["---x"]), no_env).unwrap_err(),
            FlagError::BadSyntax("---x".into())
        );
        assert_eq!(
            f.set.parse(&args(&["-=x"]), no_env).unwrap_err(),
            FlagError::BadSyntax("-=x".into())
        );
        assert_eq!(
            f.set.parse(&args(&["-h"]), no_env).unwrap_err(),
            FlagError::HelpRequested
        );
        assert_eq!(
            f.set.parse(&args(&["--help"]), no_env).unwrap_err(),
            FlagError::HelpRequested
        );
    }

    #[test]
    fn key_values() {
        let f = fixture();
        let parsed = f
            .set
            .parse(
                &args(&["--label", "a=1", "--label=b=", "--label", "a=x=y"]),
                no_env,
            )
            .unwrap();
        let map = parsed.get(f.labels);
        assert_eq!(map.get("a").map(String::as_str), Some("x=y"));
        assert_eq!(map.get("b").map(String::as_str), Some(""));
        assert_eq!(map.len(), 2);
        for bad in ["noequals", "=v"] {
            let err = f.set.parse(&args(&["--label", bad]), no_env).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("expected key=value, got {bad:?}")),
                "{err}"
            );
        }
        assert_eq!(f.set.env_var_name("label"), None);
    }

    #[test]
    fn env_twins_and_precedence() {
        let f = fixture();
        assert_eq!(
            f.set.env_var_name("target-http-port").as_deref(),
            Some("OUROBOROS_TEST_TARGET_HTTP_PORT")
        );
        let env = env_of(&[
            ("OUROBOROS_TEST_TARGET_HOST", "env.host"),
            ("OUROBOROS_TEST_DIAL_TIMEOUT", "7s"),
            ("OUROBOROS_TEST_GATEWAY_API", "true"),
            ("OUROBOROS_TEST_TARGET_HTTP_PORT", ""),
        ]);
        let parsed = f.set.parse(&[], &env).unwrap();
        assert_eq!(parsed.get(f.host), "env.host");
        assert_eq!(parsed.source(f.host), ValueSource::Env);
        assert_eq!(parsed.get(f.timeout), SignedDuration::from_secs(7));
        assert!(parsed.get(f.gateway));
        // Empty env counts as unset.
        assert_eq!(parsed.get(f.port), 80);
        assert_eq!(parsed.source(f.port), ValueSource::Default);
        let parsed = f
            .set
            .parse(&args(&["--target-host", "flag.host"]), &env)
            .unwrap();
        assert_eq!(parsed.get(f.host), "flag.host");
    }

    #[test]
    fn every_invalid_env_value_is_reported_together() {
        let f = fixture();
        let env = env_of(&[
            ("OUROBOROS_TEST_DIAL_TIMEOUT", "5sec"),
            ("OUROBOROS_TEST_TARGET_HTTP_PORT", "eighty"),
            ("OUROBOROS_TEST_GATEWAY_API", "tru"),
        ]);
        // Fails even though a flag would override one of them.
        let err = f.set.parse(&args(&["--dial-timeout=1s"]), env).unwrap_err();
        let FlagError::InvalidEnv(problems) = &err else {
            panic!("unexpected {err:?}")
        };
        let names: Vec<&str> = problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(
            names,
            [
                "OUROBOROS_TEST_TARGET_HTTP_PORT",
                "OUROBOROS_TEST_DIAL_TIMEOUT",
                "OUROBOROS_TEST_GATEWAY_API"
            ]
        );
        let text = err.to_string();
        assert!(
            text.contains("OUROBOROS_TEST_DIAL_TIMEOUT=\"5sec\""),
            "{text}"
        );
        assert!(text.contains("\"eighty\""), "{text}");
    }

    #[test]
    fn env_integers_are_plain_decimal() {
        let f = fixture();
        let parsed = f
            .set
            .parse(&[], env_of(&[("OUROBOROS_TEST_TARGET_HTTP_PORT", "-8080")]))
            .unwrap();
        assert_eq!(parsed.get(f.port), -8080);
        for bad in ["0x50", "1_000", "+", "8 0"] {
            let err = f
                .set
                .parse(&[], env_of(&[("OUROBOROS_TEST_TARGET_HTTP_PORT", bad)]))
                .unwrap_err();
            assert!(matches!(err, FlagError::InvalidEnv(_)), "{bad:?}");
        }
    }

    #[test]
    fn without_env_and_empty_prefix() {
        let mut f = fixture();
        f.set.without_env(f.host);
        let parsed = f
            .set
            .parse(&[], env_of(&[("OUROBOROS_TEST_TARGET_HOST", "x")]))
            .unwrap();
        assert_eq!(parsed.get(f.host), "");
        let mut bare = FlagSet::new("bare", "");
        let flag = bare.string("name", "d", "");
        assert_eq!(bare.env_var_name("name"), None);
        assert_eq!(
            bare.parse(&[], |_| Some("x".into())).unwrap().get(flag),
            "d"
        );
    }

    #[test]
    fn usage_lists_every_flag_with_defaults_and_env() {
        let f = fixture();
        let usage = f.set.usage();
        assert!(usage.starts_with("Usage of test:\n"));
        assert!(usage.contains("  --target-http-port int\n    \tbackend port (default 80) [env OUROBOROS_TEST_TARGET_HTTP_PORT]\n"), "{usage}");
        assert!(usage.contains("--dial-timeout duration"), "{usage}");
        assert!(usage.contains("(default 5s)"), "{usage}");
        assert!(usage.contains("  --gateway-api\n"), "{usage}");
        assert!(usage.contains("--label key=value"), "{usage}");
    }
}
