//! The etc-hosts write path through a single-file bind mount, the way the chart mounts the
//! node's hosts file: rename over a mount point fails with EBUSY, so the file must be rewritten
//! in place and the change must reach the mounted (host) file.
//! Needs permission to bind-mount (root with CAP_SYS_ADMIN); elsewhere it checks nothing and says so.

use std::process::Command;

use ouroboros_controller::hosts_file::{write_hosts_file, WriteMethod};

struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn bind_mounted_hosts_file_is_rewritten_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let host_file = dir.path().join("node-hosts");
    let mount_dir = dir.path().join("host");
    std::fs::create_dir(&mount_dir).unwrap();
    let target = mount_dir.join("hosts");
    std::fs::write(&host_file, "127.0.0.1 localhost\n").unwrap();
    std::fs::write(&target, "").unwrap();
    let mounted = Command::new("mount")
        .arg("--bind")
        .arg(&host_file)
        .arg(&target)
        .output();
    if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "bind mount not permitted here; the in-place fallback is covered by unit tests only"
        );
        return;
    }
    let _guard = Unmount(target.clone());
    let method = write_hosts_file(&target, "127.0.0.1 localhost\n10.96.1.2 a.example.com\n")
        .expect("write through the mount");
    assert_eq!(method, WriteMethod::InPlace);
    assert_eq!(
        std::fs::read_to_string(&host_file).unwrap(),
        "127.0.0.1 localhost\n10.96.1.2 a.example.com\n"
    );
    let leftovers = std::fs::read_dir(&mount_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "hosts")
        .count();
    assert_eq!(leftovers, 0, "no temp file may remain");
}
