//! Suites of subcharts, run within the parent chart the way helm-unittest runs them: the parent
//! chart is rendered, the suite's template names are relative to the subchart's directory
//! (`deployment.yaml` means `charts/<sub>/templates/deployment.yaml`), and its `set`/`values`
//! are scoped under the subchart's values key (`somevalue` means `<sub>.somevalue`).

use serde_json::{Map, Value as Json};

use crate::rendered::SubchartPlace;

/// Where a suite's names and values apply within the chart being rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuiteScope {
    /// Template path prefix (`charts/sub/`); empty for the chart's own suites.
    pub prefix: String,
    /// Values keys the suite's values are nested under; empty for the chart's own suites.
    pub values_path: Vec<String>,
}

impl SuiteScope {
    /// The scope of a suite of the chart itself.
    pub fn root() -> SuiteScope {
        SuiteScope::default()
    }

    /// The scope of a suite of the subchart at `prefix`, if the loaded chart has one there.
    pub fn for_subchart(prefix: &str, places: &[SubchartPlace]) -> Option<SuiteScope> {
        if prefix.is_empty() {
            return Some(SuiteScope::root());
        }
        places
            .iter()
            .find(|p| p.prefix == prefix)
            .map(|p| SuiteScope {
                prefix: p.prefix.clone(),
                values_path: p.values_path.clone(),
            })
    }

    /// The templates a suite in this scope sees when it names none: the subchart's own
    /// (nested subcharts included), or every template for the chart itself.
    pub fn templates_in_scope(&self, all: &[String]) -> Vec<String> {
        all.iter()
            .filter(|t| t.starts_with(&self.prefix))
            .cloned()
            .collect()
    }
}

/// `value` placed under `keys`: `["a", "b"]` and `{x: 1}` give `{a: {b: {x: 1}}}`.
pub fn nest_under(keys: &[String], value: Json) -> Json {
    keys.iter().rev().fold(value, |inner, key| {
        let mut outer = Map::new();
        outer.insert(key.clone(), inner);
        Json::Object(outer)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn places() -> Vec<SubchartPlace> {
        vec![
            SubchartPlace {
                prefix: "charts/child/".into(),
                values_path: vec!["child".into()],
            },
            SubchartPlace {
                prefix: "charts/child/charts/grand/".into(),
                values_path: vec!["child".into(), "grand".into()],
            },
        ]
    }

    #[test]
    fn nesting_wraps_from_the_innermost_key() {
        assert_eq!(
            nest_under(&["a".into(), "b".into()], json!({"x": 1})),
            json!({"a": {"b": {"x": 1}}})
        );
        assert_eq!(nest_under(&[], json!({"x": 1})), json!({"x": 1}));
    }

    #[test]
    fn scopes_come_from_the_loaded_chart() {
        let s = SuiteScope::for_subchart("charts/child/charts/grand/", &places()).unwrap();
        assert_eq!(
            s.values_path,
            vec!["child".to_string(), "grand".to_string()]
        );
        assert_eq!(
            SuiteScope::for_subchart("", &places()),
            Some(SuiteScope::root())
        );
        assert_eq!(SuiteScope::for_subchart("charts/other/", &places()), None);
    }

    #[test]
    fn a_subchart_scope_sees_its_own_and_nested_templates() {
        let all = vec![
            "templates/a.yaml".to_string(),
            "charts/child/templates/b.yaml".to_string(),
            "charts/child/charts/grand/templates/c.yaml".to_string(),
            "charts/childish/templates/d.yaml".to_string(),
        ];
        let s = SuiteScope::for_subchart("charts/child/", &places()).unwrap();
        assert_eq!(s.templates_in_scope(&all), all[1..3].to_vec());
        assert_eq!(SuiteScope::root().templates_in_scope(&all), all);
    }
}
