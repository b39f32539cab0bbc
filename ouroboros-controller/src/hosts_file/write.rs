//! Replacing the hosts file on disk.
//!
//! Normally: write a temp file `.ouroboros-hosts-*` next to the target, fsync, copy the target's
//! permission bits, rename over it. The packaged DaemonSet however bind-mounts the single host
//! file into a read-only root filesystem, where a temp file cannot be created (EROFS) and a
//! rename over a mount point fails (EBUSY, or EXDEV). In those cases the file is rewritten in
//! place (truncate + write + fsync): not atomic for concurrent readers, but the only write that
//! reaches the host's file through a single-file mount. A missing directory is still an error.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Permission bits for a target that does not exist yet.
const DEFAULT_MODE: u32 = 0o644;
/// Linux errno values that mean "this path cannot be replaced by rename, write it in place".
const EBUSY: i32 = 16;
const EXDEV: i32 = 18;
const EROFS: i32 = 30;
const EACCES: i32 = 13;
const EPERM: i32 = 1;

/// How the file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMethod {
    /// Temp file + rename.
    AtomicRename,
    /// Truncate and rewrite (single-file bind mount or read-only directory).
    InPlace,
}

/// Why the hosts file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HostsWriteError {
    /// The path's last component is not `hosts`.
    #[error("refusing to write {path:?}: the file name must be \"hosts\"")]
    NotAHostsFile {
        /// The refused path.
        path: PathBuf,
    },
    /// An I/O step failed.
    #[error("{step} {path:?}: {source}")]
    Io {
        /// What was being done.
        step: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// Refuses any path whose final component is not exactly `hosts` (so a mistyped flag can
/// never overwrite `/etc/shadow`).
pub fn check_hosts_path(path: &Path) -> Result<(), HostsWriteError> {
    match path.file_name() {
        Some(name) if name == "hosts" => Ok(()),
        _ => Err(HostsWriteError::NotAHostsFile {
            path: path.to_path_buf(),
        }),
    }
}

/// Writes `content` to the hosts file at `path`, atomically when the filesystem allows it.
pub fn write_hosts_file(path: &Path, content: &str) -> Result<WriteMethod, HostsWriteError> {
    check_hosts_path(path)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mode = match fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(e) if e.kind() == io::ErrorKind::NotFound => DEFAULT_MODE,
        Err(e) => return Err(io_err("stat", path, e)),
    };
    let temp = temp_path(dir);
    match write_temp(&temp, content, mode) {
        Ok(()) => {}
        Err(e) if fallback_applies(&e) && dir.is_dir() => {
            let _ = fs::remove_file(&temp);
            return write_in_place(path, content);
        }
        Err(e) => {
            let _ = fs::remove_file(&temp);
            return Err(io_err("write temp file", &temp, e));
        }
    }
    match fs::rename(&temp, path) {
        Ok(()) => Ok(WriteMethod::AtomicRename),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            if fallback_applies(&e) {
                write_in_place(path, content)
            } else {
                Err(io_err("rename over", path, e))
            }
        }
    }
}

fn io_err(step: &'static str, path: &Path, source: io::Error) -> HostsWriteError {
    HostsWriteError::Io {
        step,
        path: path.to_path_buf(),
        source,
    }
}

fn fallback_applies(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(EBUSY | EXDEV | EROFS | EACCES | EPERM)
    )
}

fn temp_path(dir: &Path) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!(
        ".ouroboros-hosts-{}-{nanos:09}",
        std::process::id()
    ))
}

fn write_temp(temp: &Path, content: &str, mode: u32) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()?;
    drop(file);
    fs::set_permissions(temp, Permissions::from_mode(mode))
}

fn write_in_place(path: &Path, content: &str) -> Result<WriteMethod, HostsWriteError> {
    let result = (|| -> io::Result<()> {
        let mut file: File = OpenOptions::new().write(true).truncate(true).open(path)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()
    })();
    result
        .map(|()| WriteMethod::InPlace)
        .map_err(|source| HostsWriteError::Io {
            step: "rewrite in place",
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftover_temps(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".ouroboros-hosts-"))
            .collect()
    }

    #[test]
    fn atomic_write_preserves_mode_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        fs::write(&path, "old\n").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        assert_eq!(
            write_hosts_file(&path, "new\n").unwrap(),
            WriteMethod::AtomicRename
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert!(leftover_temps(dir.path()).is_empty());
    }

    #[test]
    fn new_file_gets_0644() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        write_hosts_file(&path, "x\n").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn missing_directory_fails_and_wrong_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope").join("hosts");
        assert!(matches!(
            write_hosts_file(&missing, "x"),
            Err(HostsWriteError::Io { .. })
        ));
        let shadow = dir.path().join("shadow");
        assert!(matches!(
            write_hosts_file(&shadow, "x"),
            Err(HostsWriteError::NotAHostsFile { .. })
        ));
        assert!(!shadow.exists());
        assert!(check_hosts_path(Path::new("/host/hosts")).is_ok());
        assert!(check_hosts_path(Path::new("/host/etc/hosts.bak")).is_err());
    }

    #[test]
    fn busy_rename_falls_back_to_in_place_rewrite() {
        // A directory at the target path makes rename fail, but not with a fallback errno, so
        // this checks the error path; the EBUSY classification is checked directly below.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inner"), "x").unwrap();
        assert!(write_hosts_file(&path, "x").is_err());
        assert!(leftover_temps(dir.path()).is_empty());
        assert!(fallback_applies(&io::Error::from_raw_os_error(EBUSY)));
        assert!(fallback_applies(&io::Error::from_raw_os_error(EROFS)));
        assert!(!fallback_applies(&io::Error::from_raw_os_error(2)));
    }

    #[test]
    fn in_place_rewrite_keeps_the_inode() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        fs::write(&path, "a much longer old content\n").unwrap();
        let inode = fs::metadata(&path).unwrap().ino();
        assert_eq!(
            write_in_place(&path, "short\n").unwrap(),
            WriteMethod::InPlace
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "short\n");
        assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
    }
}
