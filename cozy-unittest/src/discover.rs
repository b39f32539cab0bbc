//! Finding charts and their suite files: a chart is a directory with `Chart.yaml`; a directory
//! that is not a chart is searched recursively (so `packages/` finds every package), and a
//! chart's suites are the files matching the patterns (default `tests/*_test.yaml`).

use std::path::{Path as FsPath, PathBuf};

use crate::error::TestError;
use crate::glob::glob_match;

/// The default suite pattern, relative to the chart directory.
pub const DEFAULT_PATTERN: &str = "tests/*_test.yaml";

/// Directories never searched for charts.
const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", "__snapshot__"];

/// Charts under the given paths, in path order, each once.
pub fn find_charts(paths: &[PathBuf]) -> Result<Vec<PathBuf>, TestError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| TestError::Io {
            path: path.clone(),
            source: e,
        })?;
        if !meta.is_dir() {
            return Err(TestError::NotAChart { path: path.clone() });
        }
        let before = out.len();
        walk_for_charts(path, &mut out)?;
        if out.len() == before {
            return Err(TestError::NotAChart { path: path.clone() });
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p: &PathBuf| seen.insert(p.clone()));
    Ok(out)
}

fn walk_for_charts(dir: &FsPath, out: &mut Vec<PathBuf>) -> Result<(), TestError> {
    if dir.join("Chart.yaml").is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| TestError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_str())
        })
        .collect();
    entries.sort();
    for e in entries {
        walk_for_charts(&e, out)?;
    }
    Ok(())
}

/// Suite files of a chart matching `patterns` (relative to the chart directory), sorted.
pub fn find_suites(chart: &FsPath, patterns: &[String]) -> Result<Vec<PathBuf>, TestError> {
    let default = [DEFAULT_PATTERN.to_string()];
    let patterns = if patterns.is_empty() {
        &default[..]
    } else {
        patterns
    };
    let mut files = Vec::new();
    collect_files(chart, chart, &mut files)?;
    let mut out: Vec<PathBuf> = files
        .into_iter()
        .filter(|(rel, _)| {
            patterns
                .iter()
                .any(|p| glob_match(p.trim_start_matches("./"), rel))
        })
        .map(|(_, abs)| abs)
        .collect();
    out.sort();
    Ok(out)
}

/// Suite files of the chart's subcharts (`charts/<dir>/`, nested ones too, parents first),
/// each with the subchart's directory relative to the chart (`charts/sub/`). Patterns are
/// relative to each subchart's own directory, as they are for the chart itself.
pub fn find_subchart_suites(
    chart: &FsPath,
    patterns: &[String],
) -> Result<Vec<(String, PathBuf)>, TestError> {
    let mut out = Vec::new();
    collect_subchart_suites(chart, "", patterns, &mut out)?;
    Ok(out)
}

fn collect_subchart_suites(
    dir: &FsPath,
    prefix: &str,
    patterns: &[String],
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), TestError> {
    let charts = dir.join("charts");
    if !charts.is_dir() {
        return Ok(());
    }
    let mut subcharts: Vec<(String, PathBuf)> = std::fs::read_dir(&charts)
        .map_err(|e| TestError::Io {
            path: charts.clone(),
            source: e,
        })?
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, path)| !name.starts_with('.') && path.join("Chart.yaml").is_file())
        .collect();
    subcharts.sort();
    for (name, path) in subcharts {
        let sub_prefix = format!("{prefix}charts/{name}/");
        for suite in find_suites(&path, patterns)? {
            out.push((sub_prefix.clone(), suite));
        }
        collect_subchart_suites(&path, &sub_prefix, patterns, out)?;
    }
    Ok(())
}

fn collect_files(
    root: &FsPath,
    dir: &FsPath,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), TestError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TestError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || SKIP_DIRS.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            // Subcharts' suites are found by `find_subchart_suites` and run in their scope.
            if dir == root && name == "charts" {
                continue;
            }
            collect_files(root, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &FsPath) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }

    #[test]
    fn finds_charts_recursively_and_their_suites() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        touch(&root.join("system/a/Chart.yaml"));
        touch(&root.join("system/a/tests/x_test.yaml"));
        touch(&root.join("system/a/tests/helper.yaml"));
        touch(&root.join("system/a/tests/__snapshot__/x_test.yaml.snap"));
        touch(&root.join("system/a/charts/sub/Chart.yaml"));
        touch(&root.join("system/a/charts/sub/tests/s_test.yaml"));
        touch(&root.join("apps/b/Chart.yaml"));
        let charts = find_charts(&[root.to_path_buf()]).unwrap();
        assert_eq!(charts, vec![root.join("apps/b"), root.join("system/a")]);
        let suites = find_suites(&root.join("system/a"), &[]).unwrap();
        assert_eq!(suites, vec![root.join("system/a/tests/x_test.yaml")]);
        let custom = find_suites(&root.join("system/a"), &["tests/*.yaml".into()]).unwrap();
        assert_eq!(custom.len(), 2);
    }

    #[test]
    fn subchart_suites_are_found_with_their_directories_nested_ones_too() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        touch(&root.join("Chart.yaml"));
        touch(&root.join("tests/own_test.yaml"));
        touch(&root.join("charts/b/Chart.yaml"));
        touch(&root.join("charts/b/tests/b_test.yaml"));
        touch(&root.join("charts/b/charts/inner/Chart.yaml"));
        touch(&root.join("charts/b/charts/inner/tests/i_test.yaml"));
        touch(&root.join("charts/a/Chart.yaml"));
        touch(&root.join("charts/a/tests/a_test.yaml"));
        // Not a chart: no Chart.yaml.
        touch(&root.join("charts/loose/tests/x_test.yaml"));
        let found = find_subchart_suites(root, &[]).unwrap();
        assert_eq!(
            found,
            vec![
                (
                    "charts/a/".to_string(),
                    root.join("charts/a/tests/a_test.yaml")
                ),
                (
                    "charts/b/".to_string(),
                    root.join("charts/b/tests/b_test.yaml")
                ),
                (
                    "charts/b/charts/inner/".to_string(),
                    root.join("charts/b/charts/inner/tests/i_test.yaml")
                ),
            ]
        );
        let none = find_subchart_suites(&root.join("charts/a"), &[]).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn a_directory_without_charts_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("empty")).unwrap();
        let e = find_charts(&[d.path().join("empty")]).unwrap_err();
        assert!(e.to_string().contains("not a chart"));
        assert!(find_charts(&[d.path().join("missing")]).is_err());
    }
}
