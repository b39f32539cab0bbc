//! Resource limits of one render, so that hostile or broken charts and values fail with a clear
//! error instead of exhausting memory, stack or time. Every limit is documented in
//! `docs/limits.md` and overridable from the command line.

use std::io;
use std::sync::RwLock;

pub use cozy_values::yaml::Limits as YamlLimits;

/// Nodes YAML aliases may paste per file on the command line. Lower than the library default
/// (one million) because a million pasted nodes already cost about 80 MiB; real values files
/// paste a few hundred.
pub const DEFAULT_YAML_ALIAS_NODES: u64 = 100_000;
/// Helm stops nested `include`/`tpl` at this depth.
pub const DEFAULT_INCLUDE_DEPTH: usize = 1000;
/// Instruction budget of one template render (minijinja fuel): stops runaway loops in
/// seconds while the largest packages use well under a tenth of it.
pub const DEFAULT_FUEL: u64 = 200_000_000;
/// Largest output of one template file (and of one `include`/`tpl` call).
pub const DEFAULT_MAX_TEMPLATE_OUTPUT: usize = 16 * 1024 * 1024;
/// Largest output of all templates of one render together.
pub const DEFAULT_MAX_TOTAL_OUTPUT: usize = 64 * 1024 * 1024;
/// Stack a render runs on. Each nested `include` costs tens of KiB of stack in
/// the template engine, so Helm's 1000 levels need far more than a default thread's 2 MiB;
/// the memory is reserved, not used, until a chart actually recurses that deep.
pub const RENDER_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Limits of the template stage of a render. Like the YAML limits (alias expansion, nesting
/// depth of values files, see [`set_yaml_limits`]) they are set once per process by the command
/// line ([`set_process_limits`]); every render reads [`Limits::current`] when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of `include` and `tpl` calls.
    pub include_depth: usize,
    /// minijinja fuel per template file.
    pub fuel: u64,
    /// Bytes one template file (or one `include`/`tpl` call) may produce.
    pub max_template_output: usize,
    /// Bytes all template files of one render may produce together.
    pub max_total_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            include_depth: DEFAULT_INCLUDE_DEPTH,
            fuel: DEFAULT_FUEL,
            max_template_output: DEFAULT_MAX_TEMPLATE_OUTPUT,
            max_total_output: DEFAULT_MAX_TOTAL_OUTPUT,
        }
    }
}

/// Limits set for the whole process (`None`: the defaults).
static PROCESS_LIMITS: RwLock<Option<Limits>> = RwLock::new(None);

impl Limits {
    /// The limits in force: the defaults unless [`set_process_limits`] changed them.
    pub fn current() -> Limits {
        match PROCESS_LIMITS.read() {
            Ok(guard) => guard.unwrap_or_default(),
            Err(poisoned) => poisoned.into_inner().unwrap_or_default(),
        }
    }
}

/// Override the template limits of every later render in this process.
pub fn set_process_limits(limits: Limits) {
    match PROCESS_LIMITS.write() {
        Ok(mut guard) => *guard = Some(limits),
        Err(poisoned) => *poisoned.into_inner() = Some(limits),
    }
}

/// Set the limits every YAML read of this process uses (values files, Chart.yaml, `--set-file`
/// contents read as YAML, `fromYaml`). Command lines call this once before loading anything.
pub fn set_yaml_limits(limits: YamlLimits) {
    cozy_values::yaml::set_process_limits(limits);
}

/// The YAML limits in force.
pub fn yaml_limits() -> YamlLimits {
    YamlLimits::current()
}

/// An output buffer that refuses to grow past a limit, so a template that prints without end
/// fails at the limit rather than when memory runs out.
#[derive(Debug, Default)]
pub struct BoundedOutput {
    bytes: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl BoundedOutput {
    pub fn new(limit: usize) -> Self {
        BoundedOutput {
            bytes: Vec::new(),
            limit,
            exceeded: false,
        }
    }

    /// Whether a write was refused.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The text written so far (templates only ever write UTF-8).
    pub fn into_string(self) -> String {
        String::from_utf8(self.bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl io::Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            self.exceeded = true;
            return Err(io::Error::other(format!(
                "rendered output exceeds {} bytes",
                self.limit
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn bounded_output_keeps_what_fits_and_refuses_the_rest() {
        let mut out = BoundedOutput::new(5);
        out.write_all(b"abc").unwrap();
        assert!(!out.exceeded());
        assert!(out.write_all(b"def").is_err());
        assert!(out.exceeded());
        assert_eq!(out.into_string(), "abc");
    }

    #[test]
    fn defaults_match_helm_where_helm_has_a_limit() {
        assert_eq!(Limits::default().include_depth, 1000);
    }
}
