//! Snapshot files in helm-unittest's format (`tests/__snapshot__/<suite file>.snap`: a map from
//! test name to a map from the snapshot's 1-based position in that test to the YAML text), with a
//! cargo-insta-style workflow on top:
//! - a new or changed snapshot fails the test and is written to `<file>.snap.new` (pending);
//! - `-u` accepts: the `.snap` file is rewritten and the pending file removed;
//! - `--ci` never writes, and also fails on pending files and on obsolete entries.
//!
//! Every write goes to a temporary file that is renamed over the target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path as FsPath, PathBuf};

use serde_json::Value as Json;

use crate::compare::values_equal;
use crate::yaml_out::{key_text, string_scalar, to_yaml};

/// How snapshots are treated in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotMode {
    /// Local run: new or changed snapshots fail and are written as pending.
    #[default]
    Check,
    /// `-u`: accept every new or changed snapshot.
    Update,
    /// `--ci`: write nothing; fail on anything not already accepted.
    Ci,
}

/// Stored snapshots: test name → position → YAML text.
pub type SnapshotEntries = BTreeMap<String, BTreeMap<u32, String>>;

/// What a snapshot assertion compares.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotContent {
    Value(Json),
    Raw(String),
}

impl SnapshotContent {
    fn text(&self) -> String {
        match self {
            SnapshotContent::Value(v) => to_yaml(v),
            SnapshotContent::Raw(s) => to_yaml(&Json::String(s.clone())),
        }
    }
}

/// Result of comparing one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum Compared {
    Matched,
    /// Differs from the stored text (accepted when updating).
    Changed {
        stored: String,
        new: String,
        accepted: bool,
    },
    /// Nothing stored yet (accepted when updating).
    New {
        new: String,
        accepted: bool,
    },
}

/// Summary of one snapshot file after its suite ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotReport {
    pub passed: usize,
    pub failed: usize,
    pub written: usize,
    /// Pending file written (or, in `--ci`, found) beside the snapshot file.
    pub pending_file: Option<PathBuf>,
    /// Entries stored but not produced by any test (`test` #`n`).
    pub obsolete: Vec<String>,
    /// Whether obsolete entries or a stale pending file fail the suite (`--ci`).
    pub obsolete_fails: bool,
    pub errors: Vec<String>,
}

/// The snapshot state of one suite during a run.
#[derive(Debug)]
pub struct SnapshotSession {
    pub file: PathBuf,
    mode: SnapshotMode,
    stored: SnapshotEntries,
    current: SnapshotEntries,
    counters: BTreeMap<String, u32>,
    changed: usize,
    matched: usize,
    load_error: Option<String>,
}

/// `tests/__snapshot__/<suite file name>.snap` for a suite file.
pub fn snapshot_path(suite_file: &FsPath) -> PathBuf {
    let dir = suite_file.parent().unwrap_or(FsPath::new("."));
    let name = suite_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join("__snapshot__").join(format!("{name}.snap"))
}

/// The pending file beside a snapshot file.
pub fn pending_path(snapshot: &FsPath) -> PathBuf {
    let mut s = snapshot.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

impl SnapshotSession {
    /// Open the session for a suite; a malformed snapshot file is reported on every comparison.
    pub fn open(suite_file: &FsPath, mode: SnapshotMode) -> SnapshotSession {
        let file = snapshot_path(suite_file);
        let (stored, load_error) = match std::fs::read_to_string(&file) {
            Ok(text) => match parse_entries(&text) {
                Ok(e) => (e, None),
                Err(e) => (
                    SnapshotEntries::new(),
                    Some(format!("{}: {e}", file.display())),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (SnapshotEntries::new(), None),
            Err(e) => (
                SnapshotEntries::new(),
                Some(format!("{}: {e}", file.display())),
            ),
        };
        SnapshotSession {
            file,
            mode,
            stored,
            current: SnapshotEntries::new(),
            counters: BTreeMap::new(),
            changed: 0,
            matched: 0,
            load_error,
        }
    }

    pub fn mode(&self) -> SnapshotMode {
        self.mode
    }

    pub fn load_error(&self) -> Option<&str> {
        self.load_error.as_deref()
    }

    /// Compare the next snapshot of `test` (positions count up per test, like helm-unittest).
    pub fn compare(&mut self, test: &str, content: &SnapshotContent) -> (u32, Compared) {
        let counter = self.counters.entry(test.to_string()).or_insert(0);
        *counter += 1;
        let index = *counter;
        let new = content.text();
        let stored = self.stored.get(test).and_then(|m| m.get(&index)).cloned();
        let accepted = self.mode == SnapshotMode::Update;
        let result = match stored {
            Some(old) if same_snapshot(&old, &new, content) => {
                // Keep the stored text so formatting differences never rewrite the file.
                self.current
                    .entry(test.to_string())
                    .or_default()
                    .insert(index, old);
                self.matched += 1;
                return (index, Compared::Matched);
            }
            Some(old) => Compared::Changed {
                stored: old,
                new: new.clone(),
                accepted,
            },
            None => Compared::New {
                new: new.clone(),
                accepted,
            },
        };
        self.current
            .entry(test.to_string())
            .or_default()
            .insert(index, new);
        self.changed += 1;
        (index, result)
    }

    /// Keep the stored entries of a test that did not run (skipped), so they are not obsolete.
    pub fn keep_test(&mut self, test: &str) {
        if let Some(entries) = self.stored.get(test) {
            self.current
                .entry(test.to_string())
                .or_default()
                .extend(entries.clone());
        }
    }

    /// Write files as the mode asks and report.
    pub fn finish(self) -> SnapshotReport {
        let mut report = SnapshotReport {
            passed: self.matched,
            ..SnapshotReport::default()
        };
        if let Some(e) = &self.load_error {
            report.errors.push(e.clone());
        }
        let current_keys: BTreeSet<(String, u32)> = self
            .current
            .iter()
            .flat_map(|(t, m)| m.keys().map(move |i| (t.clone(), *i)))
            .collect();
        for (test, entries) in &self.stored {
            for index in entries.keys() {
                if !current_keys.contains(&(test.clone(), *index)) {
                    report.obsolete.push(format!("{test} #{index}"));
                }
            }
        }
        let pending = pending_path(&self.file);
        match self.mode {
            SnapshotMode::Update => {
                report.written = self.changed;
                if self.changed > 0 || !report.obsolete.is_empty() {
                    let write = if self.current.is_empty() {
                        std::fs::remove_file(&self.file).or_else(ignore_missing)
                    } else {
                        write_atomic(&self.file, &render_entries(&self.current))
                    };
                    if let Err(e) = write {
                        report
                            .errors
                            .push(format!("cannot write {}: {e}", self.file.display()));
                    }
                }
                if let Err(e) = std::fs::remove_file(&pending).or_else(ignore_missing) {
                    report
                        .errors
                        .push(format!("cannot remove {}: {e}", pending.display()));
                }
                report.obsolete.clear();
            }
            SnapshotMode::Check => {
                report.failed = self.changed;
                if self.changed > 0 {
                    match write_atomic(&pending, &render_entries(&self.current)) {
                        Ok(()) => report.pending_file = Some(pending),
                        Err(e) => report
                            .errors
                            .push(format!("cannot write {}: {e}", pending.display())),
                    }
                } else if let Err(e) = std::fs::remove_file(&pending).or_else(ignore_missing) {
                    report
                        .errors
                        .push(format!("cannot remove {}: {e}", pending.display()));
                }
            }
            SnapshotMode::Ci => {
                report.failed = self.changed;
                report.obsolete_fails = true;
                if pending.exists() {
                    report.pending_file = Some(pending);
                }
            }
        }
        report
    }
}

fn ignore_missing(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

/// Stored text and new content are the same snapshot: identical text, or the stored YAML reads
/// back as an equal value (snapshots written by helm-unittest format some values differently).
fn same_snapshot(stored: &str, new: &str, content: &SnapshotContent) -> bool {
    if stored == new || stored.trim_end() == new.trim_end() {
        return true;
    }
    let Ok(back) = crate::yaml_in::parse_document(stored) else {
        return false;
    };
    match content {
        SnapshotContent::Value(v) => values_equal(&back, v),
        SnapshotContent::Raw(s) => back.as_str() == Some(s.as_str()),
    }
}

/// Parse a `.snap` file.
pub fn parse_entries(text: &str) -> Result<SnapshotEntries, String> {
    let doc = crate::yaml_in::parse_document(text)?;
    let mut out = SnapshotEntries::new();
    let map = match doc {
        Json::Null => return Ok(out),
        Json::Object(m) => m,
        _ => return Err("expected a map of test names".into()),
    };
    for (test, entries) in map {
        let entries = entries
            .as_object()
            .ok_or_else(|| format!("`{test}`: expected a map of snapshot positions"))?;
        let mut by_index = BTreeMap::new();
        for (k, v) in entries {
            let index: u32 = k
                .parse()
                .map_err(|_| format!("`{test}`: `{k}` is not a snapshot position"))?;
            let text = v
                .as_str()
                .ok_or_else(|| format!("`{test}` #{k}: expected a string"))?;
            by_index.insert(index, text.to_string());
        }
        out.insert(test, by_index);
    }
    Ok(out)
}

/// Text of a `.snap` file.
pub fn render_entries(entries: &SnapshotEntries) -> String {
    let mut out = String::new();
    for (test, by_index) in entries {
        out.push_str(&key_text(test));
        out.push_str(":\n");
        for (index, text) in by_index {
            out.push_str(&format!("  {index}: {}\n", string_scalar(text, 4)));
        }
    }
    out
}

/// Create the directory if needed, then write through `cozy_engine::fs::atomic_write` (a synced
/// temporary file renamed over the target), so an interrupted `-u` leaves every snapshot whole.
pub fn write_atomic(path: &FsPath, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    cozy_engine::fs::atomic_write(path, text.as_bytes())
        .map_err(|e| std::io::Error::new(e.source.kind(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn suite_in(dir: &FsPath) -> PathBuf {
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        dir.join("tests/a_test.yaml")
    }

    #[test]
    fn file_format_round_trips() {
        let mut e = SnapshotEntries::new();
        e.entry("renders a service".into())
            .or_default()
            .insert(1, "a: 1\nb:\n  - x\n".into());
        e.entry("x: y".into()).or_default().insert(2, "z\n".into());
        let text = render_entries(&e);
        assert!(
            text.starts_with("renders a service:\n  1: |\n    a: 1\n"),
            "{text}"
        );
        assert_eq!(parse_entries(&text).unwrap(), e);
    }

    #[test]
    fn new_snapshot_is_pending_then_accepted_then_matches() {
        let dir = tempfile::tempdir().unwrap();
        let suite = suite_in(dir.path());
        let content = SnapshotContent::Value(json!({"kind": "Service"}));

        let mut s = SnapshotSession::open(&suite, SnapshotMode::Check);
        assert!(matches!(
            s.compare("t", &content).1,
            Compared::New {
                accepted: false,
                ..
            }
        ));
        let r = s.finish();
        assert_eq!(r.failed, 1);
        let pending = r.pending_file.unwrap();
        assert!(pending.ends_with("tests/__snapshot__/a_test.yaml.snap.new"));
        assert!(!snapshot_path(&suite).exists());

        let mut s = SnapshotSession::open(&suite, SnapshotMode::Ci);
        assert!(matches!(s.compare("t", &content).1, Compared::New { .. }));
        let r = s.finish();
        assert_eq!(r.failed, 1);
        assert!(
            r.pending_file.is_some(),
            "ci reports the stale pending file"
        );

        let mut s = SnapshotSession::open(&suite, SnapshotMode::Update);
        assert!(matches!(
            s.compare("t", &content).1,
            Compared::New { accepted: true, .. }
        ));
        let r = s.finish();
        assert_eq!(r.written, 1);
        assert!(snapshot_path(&suite).exists());
        assert!(!pending.exists());

        let mut s = SnapshotSession::open(&suite, SnapshotMode::Ci);
        assert_eq!(s.compare("t", &content).1, Compared::Matched);
        let r = s.finish();
        assert_eq!((r.passed, r.failed), (1, 0));
    }

    #[test]
    fn changed_and_obsolete_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let suite = suite_in(dir.path());
        let file = snapshot_path(&suite);
        write_atomic(
            &file,
            "t:\n  1: |\n    kind: Service\n  2: |\n    gone: true\nold:\n  1: |\n    x: 1\n",
        )
        .unwrap();

        let mut s = SnapshotSession::open(&suite, SnapshotMode::Ci);
        let (_, c) = s.compare("t", &SnapshotContent::Value(json!({"kind": "Deployment"})));
        let Compared::Changed { stored, new, .. } = c else {
            panic!("{c:?}")
        };
        assert_eq!(stored, "kind: Service\n");
        assert_eq!(new, "kind: Deployment\n");
        let r = s.finish();
        assert_eq!(r.obsolete, vec!["old #1".to_string(), "t #2".to_string()]);
        assert!(r.obsolete_fails);

        let mut s = SnapshotSession::open(&suite, SnapshotMode::Update);
        s.compare("t", &SnapshotContent::Value(json!({"kind": "Deployment"})));
        let r = s.finish();
        assert!(r.obsolete.is_empty());
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "t:\n  1: |\n    kind: Deployment\n"
        );
    }

    #[test]
    fn helm_unittest_formatting_is_read_semantically() {
        let dir = tempfile::tempdir().unwrap();
        let suite = suite_in(dir.path());
        // yaml.v3 quotes and indents differently; the values are the same.
        write_atomic(
            &snapshot_path(&suite),
            "t:\n  1: |\n    a:\n    - 'x'\n    b: \"1\"\n",
        )
        .unwrap();
        let mut s = SnapshotSession::open(&suite, SnapshotMode::Ci);
        let (_, c) = s.compare("t", &SnapshotContent::Value(json!({"a": ["x"], "b": "1"})));
        assert_eq!(c, Compared::Matched);
    }

    #[test]
    fn writes_create_the_directory_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("__snapshot__/a_test.yaml.snap");
        write_atomic(&target, "old\n").unwrap();
        write_atomic(&target, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a_test.yaml.snap")]);
    }

    #[test]
    fn malformed_snapshot_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let suite = suite_in(dir.path());
        write_atomic(&snapshot_path(&suite), "t:\n  one: x\n").unwrap();
        let s = SnapshotSession::open(&suite, SnapshotMode::Check);
        assert!(s
            .load_error()
            .unwrap()
            .contains("`one` is not a snapshot position"));
    }
}
