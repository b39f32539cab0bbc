//! Snapshots of the four platform packages rendered over a value matrix.
//!
//! Every `snapshots/values/<package>/<case>.yaml` is one case: the package is rendered with that
//! values file (release name and namespace per package, as its unit suites use them), and
//! `<case>.state.yaml` next to it, when present, is the cluster state `lookup` sees. A successful
//! render is snapshotted as its YAML stream; a failing one (gates, schema) as its error text.
//! Snapshots live in `snapshots/` at the workspace root; `cargo insta review` accepts changes.

use std::fs;
use std::path::{Path, PathBuf};

use cozy_engine::{render, Chart, ClusterState, RenderOptions, ValueLayer};

/// One package of the matrix: where it lives and the release it is rendered as.
struct Package {
    /// Directory name under `snapshots/values/` and snapshot name prefix.
    key: &'static str,
    /// Chart directory, relative to the workspace root.
    dir: &'static str,
    release: &'static str,
    namespace: &'static str,
}

const PACKAGES: &[Package] = &[
    Package {
        key: "ouroboros",
        dir: "packages/system/ouroboros",
        release: "ouroboros",
        namespace: "cozy-ouroboros",
    },
    Package {
        key: "coredns",
        dir: "packages/system/coredns",
        release: "coredns",
        namespace: "kube-system",
    },
    Package {
        key: "kubernetes",
        dir: "packages/apps/kubernetes",
        release: "tenant-demo",
        namespace: "tenant-demo",
    },
    Package {
        key: "platform",
        dir: "packages/core/platform",
        release: "cozystack",
        namespace: "cozy-system",
    },
];

/// The matrix must not silently shrink: the acceptance bar is at least this many cases.
const MIN_CASES: usize = 40;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate lives in the workspace")
        .to_path_buf()
}

/// Case files of one package, sorted by name (state files excluded).
fn cases(root: &Path, package: &Package) -> Vec<PathBuf> {
    let dir = root.join("snapshots/values").join(package.key);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".yaml") && !name.ends_with(".state.yaml")
        })
        .collect();
    files.sort();
    files
}

/// Render one case; the error is the text that is snapshotted for it.
fn render_rendered(
    root: &Path,
    package: &Package,
    values_file: &Path,
) -> Result<cozy_engine::Rendered, String> {
    let chart =
        Chart::load(&root.join(package.dir)).map_err(|e| format!("chart load error: {e}"))?;
    let state_file = values_file.with_extension("state.yaml");
    let cluster_state = if state_file.exists() {
        Some(
            ClusterState::from_file(&state_file)
                .unwrap_or_else(|e| panic!("{}: {e}", state_file.display())),
        )
    } else {
        None
    };
    let options = RenderOptions {
        release_name: package.release.into(),
        namespace: package.namespace.into(),
        values: vec![ValueLayer::File(values_file.to_path_buf())],
        base_dir: root.to_path_buf(),
        cluster_state,
        ..RenderOptions::default()
    };
    render(&chart, &options).map_err(|e| format!("render error: {e}"))
}

/// Render one case to the text that is snapshotted: the YAML stream or the error.
fn render_case(root: &Path, package: &Package, values_file: &Path) -> String {
    let text = match render_rendered(root, package, values_file) {
        Ok(rendered) => rendered.to_yaml_stream(),
        Err(e) => e,
    };
    // Keep snapshots independent of where the workspace is checked out.
    text.replace(&format!("{}/", root.display()), "")
}

#[test]
fn packages_render_as_snapshotted_over_the_value_matrix() {
    let root = workspace_root();
    let mut total = 0;
    for package in PACKAGES {
        for values_file in cases(&root, package) {
            let case = values_file
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 case name");
            let output = render_case(&root, package, &values_file);
            let name = format!("{}__{}", package.key, case);
            insta::with_settings!({
                snapshot_path => "../../snapshots",
                prepend_module_to_snapshot => false,
                description => format!("{} rendered with snapshots/values/{}/{}.yaml", package.dir, package.key, case),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name, output);
            });
            total += 1;
        }
    }
    assert!(
        total >= MIN_CASES,
        "value matrix has {total} cases, at least {MIN_CASES} are required"
    );
}

#[test]
fn every_gate_case_fails_and_every_other_case_renders() {
    // Case files whose first line starts with "# Gate:" or "# Rejected" must fail to render;
    // every other case must render. This keeps a gate from silently turning into a pass (and a
    // clean case from turning into a failure) even when someone accepts snapshots in bulk.
    let root = workspace_root();
    for package in PACKAGES {
        for values_file in cases(&root, package) {
            let first_line = fs::read_to_string(&values_file)
                .expect("readable case")
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let must_fail =
                first_line.starts_with("# Gate:") || first_line.starts_with("# Rejected");
            let output = render_case(&root, package, &values_file);
            let failed =
                output.starts_with("render error:") || output.starts_with("chart load error:");
            assert_eq!(
                failed,
                must_fail,
                "{}: expected {}, got:\n{}",
                values_file.display(),
                if must_fail {
                    "a render failure"
                } else {
                    "a clean render"
                },
                output.lines().take(5).collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// Rendered manifests are read back through a quick reader for the block-style YAML that
/// templates render (falling back to the full parser for anything else). Over every document
/// of the matrix it must read exactly what the full parser reads.
#[test]
fn rendered_documents_read_back_as_the_full_parser_reads_them() {
    use cozy_values::yaml::{parse_documents, parse_manifest, NumberMode};
    let root = workspace_root();
    let mut documents = 0;
    for package in PACKAGES {
        for values_file in cases(&root, package) {
            let Ok(rendered) = render_rendered(&root, package, &values_file) else {
                continue;
            };
            for doc in &rendered.documents {
                let full = parse_documents(&doc.text, NumberMode::Native)
                    .expect("rendered documents are valid YAML")
                    .into_iter()
                    .next()
                    .map_or(serde_json::Value::Null, |(value, _)| value);
                let read = parse_manifest(&doc.text, NumberMode::Native).expect("valid YAML");
                assert_eq!(read, full, "{} in {}", doc.source, values_file.display());
                documents += 1;
            }
        }
    }
    assert!(documents > 500, "only {documents} documents checked");
}
