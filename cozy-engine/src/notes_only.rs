//! Rendering a chart's NOTES.txt and nothing else: values are computed and validated and every
//! definition is compiled (NOTES may include them), but no manifest template runs.
//!
//! Test suites that select only NOTES.txt need this: `helm-unittest` renders the selected
//! templates and the partials only, so a failing manifest template must not fail such a suite,
//! and skipping the manifests is also the cheap way to get the notes.

use crate::chart::Chart;
use crate::error::RenderError;
use crate::render::{on_render_stack, prepare, RenderOptions};

/// The root chart's rendered NOTES.txt (`None` when it has none). `opts.show_only` and
/// `opts.render_notes` are ignored: the notes are what this renders.
pub fn render_notes_only(
    chart: &Chart,
    opts: &RenderOptions,
) -> Result<Option<String>, RenderError> {
    // Same large stack as a full render, for the same reason (deep `include` chains end in the
    // depth error, not a stack overflow).
    on_render_stack(|| notes_here(chart, opts))
}

fn notes_here(chart: &Chart, opts: &RenderOptions) -> Result<Option<String>, RenderError> {
    let p = prepare(chart, opts)?;
    p.env
        .render_notes(chart, &p.computed, &p.release, &p.capabilities, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test (the crate has no temp-dir dependency).
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("notes-only-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(dir: &std::path::Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn notes_render_while_a_broken_manifest_is_skipped() {
        let d = scratch("broken");
        let dir = d.as_path();
        write(
            dir,
            "Chart.yaml",
            "apiVersion: v2\nname: notes\nversion: 0.1.0\n",
        );
        write(dir, "values.yaml", "who: world\n");
        write(
            dir,
            "templates/_h.tpl",
            "{% define \"notes.greet\" %}hello{% enddefine %}\n",
        );
        write(
            dir,
            "templates/NOTES.txt",
            "{{ include(\"notes.greet\", dot) }} {{ Values.who }}",
        );
        write(
            dir,
            "templates/broken.yaml",
            "{{ fail(\"must not run\") }}\n",
        );
        let chart = Chart::load(dir).unwrap();
        let opts = RenderOptions {
            base_dir: dir.to_path_buf(),
            ..Default::default()
        };
        assert!(crate::render(&chart, &opts).is_err());
        let notes = render_notes_only(&chart, &opts).unwrap();
        assert_eq!(notes.as_deref(), Some("hello world"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_chart_without_notes_yields_none_and_values_errors_still_surface() {
        let d = scratch("none");
        let dir = d.as_path();
        write(
            dir,
            "Chart.yaml",
            "apiVersion: v2\nname: notes\nversion: 0.1.0\n",
        );
        write(dir, "templates/cm.yaml", "kind: ConfigMap\n");
        let chart = Chart::load(dir).unwrap();
        let opts = RenderOptions {
            base_dir: dir.to_path_buf(),
            ..Default::default()
        };
        assert_eq!(render_notes_only(&chart, &opts).unwrap(), None);
        let bad = RenderOptions {
            values: vec![cozy_values::ValueLayer::File("missing.yaml".into())],
            ..opts
        };
        assert!(render_notes_only(&chart, &bad).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
