//! Scaffolding shared by the CLI tests: scratch directories and minimal charts.
#![allow(dead_code)] // each test binary uses a part of it

use std::path::{Path, PathBuf};

/// An empty directory `<temp>/<suite>-<pid>-<name>`, removed first if an earlier run left it.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A chart in `dir`: a Chart.yaml naming `chart_name`, a `templates/` directory, and `files`
/// (paths relative to the chart, text).
pub fn write_chart(dir: &Path, chart_name: &str, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {chart_name}\nversion: 0.1.0\n"),
    )
    .unwrap();
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap();
    }
}
