//! `cozy_engine::fs::atomic_write` under interruption: a writer killed at any moment, a full
//! disk and a read-only directory all leave the target either entirely old or entirely new.
//!
//! The writer runs in a child process: this test binary re-executed with `WRITER_MODE` set, so
//! it can be interrupted by signals and given resource limits without touching the test runner.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cozy_engine::fs::atomic_write;

mod support;

const SIZE: usize = 256 * 1024;

fn content(generation: usize) -> Vec<u8> {
    let byte = b'a' + (generation % 26) as u8;
    let mut v = vec![byte; SIZE];
    v[SIZE - 1] = b'\n';
    v
}

/// Whether `bytes` is one whole generation's content.
fn is_whole(bytes: &[u8]) -> bool {
    bytes.len() == SIZE
        && bytes[SIZE - 1] == b'\n'
        && bytes[..SIZE - 1].iter().all(|b| *b == bytes[0])
}

fn scratch(name: &str) -> PathBuf {
    support::scratch("atomic-writes", name)
}

/// In the child: rewrite the target forever (or once), as `test -u` rewrites snapshots.
#[test]
fn writer_child() {
    let Ok(mode) = std::env::var("WRITER_MODE") else {
        return;
    };
    let target = PathBuf::from(std::env::var("WRITER_TARGET").unwrap());
    match mode.as_str() {
        "loop" => {
            for generation in 1.. {
                atomic_write(&target, &content(generation)).unwrap();
            }
        }
        _ => {
            let err = atomic_write(&target, &content(1)).unwrap_err();
            eprintln!("WRITE-ERROR: {err}");
        }
    }
}

fn child(mode: &str, target: &Path, shell_prefix: Option<&str>) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match shell_prefix {
        Some(prefix) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("{prefix}; exec \"$0\" \"$@\""))
                .arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
        .env("WRITER_MODE", mode)
        .env("WRITER_TARGET", target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn a_writer_interrupted_at_any_moment_leaves_a_whole_file() {
    let dir = scratch("interrupt");
    let target = dir.join("snapshot.yaml");
    std::fs::write(&target, content(0)).unwrap();
    for (round, signal) in ["INT", "TERM", "KILL", "INT", "KILL", "INT"]
        .iter()
        .enumerate()
    {
        let mut writer = child("loop", &target, None).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(40 + 37 * round as u64));
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(writer.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let _ = writer.wait();
        let bytes = std::fs::read(&target).unwrap();
        assert!(
            is_whole(&bytes),
            "round {round} (SIG{signal}): the file is torn ({} bytes)",
            bytes.len()
        );
    }
    // A killed writer may leave its temporary file behind, never a damaged target.
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_full_disk_leaves_the_old_file_and_no_temporary_file() {
    let dir = scratch("full");
    let target = dir.join("generated.yaml");
    std::fs::write(&target, content(0)).unwrap();
    // RLIMIT_FSIZE makes writes past 4 KiB fail with EFBIG, as a full disk fails with ENOSPC;
    // it binds root too, unlike file permissions. SIGXFSZ is ignored so the write returns.
    let out = child("once", &target, Some("ulimit -f 8; trap '' XFSZ"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WRITE-ERROR"),
        "the write should have failed: {stderr}"
    );
    assert!(stderr.contains("generated.yaml"), "{stderr}");
    assert_eq!(std::fs::read(&target).unwrap(), content(0));
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_read_only_directory_leaves_the_old_file() {
    let dir = scratch("readonly");
    let target = dir.join("values.yaml");
    std::fs::write(&target, content(0)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = std::fs::write(dir.join("probe"), b"x").is_ok();
    let result = atomic_write(&target, &content(1));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bytes = std::fs::read(&target).unwrap();
    if privileged {
        // Permissions do not bind this user (root): the write succeeds, and is whole.
        assert!(result.is_ok());
        assert_eq!(bytes, content(1));
    } else {
        let err = result.unwrap_err().to_string();
        assert!(
            err.contains("values.yaml") && err.contains("left unchanged"),
            "{err}"
        );
        assert_eq!(bytes, content(0));
    }
    let _ = std::fs::remove_file(dir.join("probe"));
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(dir);
}
