//! Writing files so that an interruption (a signal, a full disk, a crash) leaves either the old
//! content or the new one, never a truncated mix: write a temporary file in the same directory,
//! flush it to disk, then rename it over the target (rename is atomic within a file system).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an atomic write failed; the target is untouched in every case.
#[derive(Debug)]
pub struct AtomicWriteError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// What went wrong (creating, writing, syncing or renaming the temporary file).
    pub step: &'static str,
    pub source: io::Error,
}

impl std::fmt::Display for AtomicWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} failed: {} (file left unchanged)",
            self.path.display(),
            self.step,
            self.source
        )
    }
}

impl std::error::Error for AtomicWriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// The temporary sibling of `path`: hidden, unique per process and call.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp-{}-{seq}", std::process::id()))
}

/// Replace the content of `path` with `bytes` atomically. An existing file keeps its
/// permissions.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    let fail = |step: &'static str| {
        move |source: io::Error| AtomicWriteError {
            path: path.to_path_buf(),
            step,
            source,
        }
    };
    let temp = temp_path(path);
    let result = (|| {
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(fail("creating a temporary file"))?;
        file.write_all(bytes)
            .map_err(fail("writing the temporary file"))?;
        if let Ok(meta) = fs::metadata(path) {
            file.set_permissions(meta.permissions())
                .map_err(fail("copying permissions"))?;
        }
        file.sync_all()
            .map_err(fail("syncing the temporary file"))?;
        drop(file);
        fs::rename(&temp, path).map_err(fail("renaming the temporary file"))?;
        // Make the rename itself durable; not every platform can sync a directory.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("atomic-write-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = scratch("replace");
        let path = dir.join("snap.yaml");
        fs::write(&path, "old\n").unwrap();
        atomic_write(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("snap.yaml")]);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_file() {
        let dir = scratch("missing");
        let path = dir.join("no/such/dir/out.yaml");
        let err = atomic_write(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("out.yaml"), "{err}");
        assert!(err.to_string().contains("left unchanged"), "{err}");
        let _ = fs::remove_dir_all(dir);
    }
}
