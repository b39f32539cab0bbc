//! Helm's value computation for a chart tree (`chartutil.CoalesceValues`): the user map is
//! filled with each chart's defaults, subchart by subchart, with `global` propagated down.
//!
//! Behaviour verified against Helm 4:
//! - a user `null` deletes a key the defaults have; a `null` for a key no default has stays
//!   (as `null`) in the values;
//! - a `null` in a parent's section for a subchart (parent `values.yaml` or user) deletes the
//!   subchart's default;
//! - maps merge, anything else from the higher layer wins (a map never merges into a scalar);
//! - a subchart's `global` is the parent's `global` merged over the subchart's own, and the
//!   root's values show every subchart section fully coalesced.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::ValuesError;
use crate::layers::{self, kind_name, ValueLayer};
use crate::origin::{join, Origin, Origins};
use crate::yaml::{self, NumberMode, Positions};
use crate::{path, Map};

const GLOBAL: &str = "global";

/// The values-relevant part of one chart and its subcharts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartValues {
    /// The chart name, which is also the key of its section in the parent's values.
    pub name: String,
    /// The chart's `values.yaml`.
    pub defaults: Map,
    /// How to name the defaults file in origins, e.g. `values.yaml` or
    /// `charts/ouroboros/values.yaml`.
    pub defaults_origin: String,
    /// Positions of the defaults (from [`yaml::parse_file`]), for origins.
    pub default_positions: Positions,
    /// The chart's `values.schema.json`, if any.
    pub schema: Option<Value>,
    /// The schema's file, against which relative `$ref`s resolve.
    pub schema_path: Option<PathBuf>,
    /// `schema` compiled on first validation and shared by every clone of this value, so a
    /// chart loaded once and rendered many times (`lint --matrix`, `test`) compiles it once.
    pub compiled_schema: crate::schema::CompiledSchema,
    pub subcharts: Vec<ChartValues>,
}

impl ChartValues {
    /// Read a chart's `values.yaml` (absent → no defaults) and `values.schema.json` (absent →
    /// no schema). `shown` names the values file in origins and errors.
    pub fn load(
        name: &str,
        values_file: &Path,
        shown: &str,
        schema_file: &Path,
    ) -> Result<ChartValues, ValuesError> {
        let mut chart = ChartValues {
            name: name.to_owned(),
            defaults_origin: shown.to_owned(),
            ..ChartValues::default()
        };
        if values_file.exists() {
            let text = std::fs::read_to_string(values_file).map_err(|source| ValuesError::Io {
                path: values_file.to_owned(),
                source,
            })?;
            let parsed = yaml::parse_str(&text, shown, NumberMode::Helm)?;
            chart.default_positions = parsed.positions.clone();
            chart.defaults = layers::top_level_map(parsed, shown)?;
        }
        if schema_file.exists() {
            let text = std::fs::read_to_string(schema_file).map_err(|source| ValuesError::Io {
                path: schema_file.to_owned(),
                source,
            })?;
            let schema = serde_json::from_str(&text).map_err(|e| ValuesError::Yaml {
                location: crate::SourceLocation::in_text(
                    &schema_file.display().to_string(),
                    &text,
                    e.line(),
                    e.column(),
                ),
                message: format!("invalid JSON schema: {e}"),
            })?;
            chart.schema = Some(schema);
            chart.schema_path = Some(schema_file.to_owned());
        }
        Ok(chart)
    }

    fn is_subchart(&self, key: &str) -> bool {
        self.subcharts.iter().any(|s| s.name == key)
    }
}

/// The result of [`compute`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Computed {
    /// The root chart's values; each subchart's section inside, fully coalesced.
    pub values: Map,
    /// Where every value path (from the root) came from; the last layer that set it wins.
    pub origins: Origins,
    /// What Helm would log as warnings (e.g. a map in the defaults overridden by a scalar).
    pub warnings: Vec<String>,
}

impl Computed {
    /// The values a subchart sees as `.Values`, by its path of chart names below the root
    /// (`["ouroboros"]`, `["platform", "coredns"]`); the empty path is the root.
    pub fn scoped(&self, subchart_path: &[&str]) -> Option<&Map> {
        let mut map = &self.values;
        for name in subchart_path {
            map = map.get(*name)?.as_object()?;
        }
        Some(map)
    }

    /// The origin of a root-relative value path, or of its nearest ancestor.
    pub fn origin_of(&self, path: &str) -> Option<&Origin> {
        self.origins.nearest(path)
    }

    /// The origin of a path as a subchart sees it (`enabled` inside `["ouroboros"]` is the
    /// root path `ouroboros.enabled`), or of its nearest ancestor.
    pub fn origin_in(&self, subchart_path: &[&str], local_path: &str) -> Option<&Origin> {
        let prefix = subchart_path
            .iter()
            .fold(String::new(), |p, name| path::child_key(&p, name));
        self.origins.nearest(&join(&prefix, local_path))
    }
}

/// Compute the values of `chart` with user `layers` (relative files resolve against
/// `base_dir`), exactly as Helm does.
pub fn compute(
    chart: &ChartValues,
    layers: &[ValueLayer],
    base_dir: &Path,
) -> Result<Computed, ValuesError> {
    let (mut values, user_origins) = layers::merge_layers(layers, base_dir)?;
    let mut warnings = Vec::new();
    coalesce(chart, &mut values, "", &mut warnings)?;

    let mut origins = Origins::default();
    default_origins(chart, "", &mut origins);
    for (p, origin) in user_origins.iter() {
        origins.set(p.to_owned(), origin.clone());
    }
    propagate_global_origins(chart, "", &mut origins);
    retain_existing(&mut origins, &values);
    Ok(Computed {
        values,
        origins,
        warnings,
    })
}

/// `coalesce` = `coalesceValues` then `coalesceDeps`.
fn coalesce(
    chart: &ChartValues,
    values: &mut Map,
    prefix: &str,
    warnings: &mut Vec<String>,
) -> Result<(), ValuesError> {
    coalesce_values(chart, values, prefix, warnings);
    coalesce_deps(chart, values, prefix, warnings)
}

/// Fill `values` (higher precedence) with the chart's defaults.
fn coalesce_values(
    chart: &ChartValues,
    values: &mut Map,
    prefix: &str,
    warnings: &mut Vec<String>,
) {
    for (key, default) in &chart.defaults {
        match values.get_mut(key) {
            None => {
                values.insert(key.clone(), default.clone());
            }
            Some(Value::Null) => {
                values.remove(key);
            }
            Some(Value::Object(user)) => match default {
                Value::Object(default) => {
                    // A subchart's section keeps its nulls here: the subchart's own pass deletes
                    // the defaults they name.
                    let keep_nulls = chart.is_subchart(key);
                    coalesce_tables(
                        user,
                        default,
                        &path::child_key(prefix, key),
                        keep_nulls,
                        warnings,
                    );
                }
                Value::Null => {}
                other => warnings.push(format!(
                    "skipped value for {}: not a table ({})",
                    path::child_key(prefix, key),
                    kind_name(other)
                )),
            },
            Some(_) => {}
        }
    }
}

/// `coalesceTablesFullKey`: `dst` is authoritative, `src` fills the gaps.
fn coalesce_tables(
    dst: &mut Map,
    src: &Map,
    prefix: &str,
    keep_nulls: bool,
    warnings: &mut Vec<String>,
) {
    for (key, default) in src {
        let full = path::child_key(prefix, key);
        match dst.get_mut(key) {
            None => {
                dst.insert(key.clone(), default.clone());
            }
            Some(Value::Null) if !keep_nulls => {
                dst.remove(key);
            }
            Some(Value::Null) => {}
            Some(Value::Object(user)) => match default {
                Value::Object(default) => {
                    coalesce_tables(user, default, &full, keep_nulls, warnings)
                }
                Value::Null => {}
                other => warnings.push(format!(
                    "cannot overwrite table with non table for {full} ({other})"
                )),
            },
            Some(_) => {
                if default.is_object() {
                    warnings.push(format!(
                        "destination for {full} is a table. Ignoring non-table value"
                    ));
                }
            }
        }
    }
}

/// Each subchart: its section (created if absent), the parent's globals, then its defaults.
fn coalesce_deps(
    chart: &ChartValues,
    values: &mut Map,
    prefix: &str,
    warnings: &mut Vec<String>,
) -> Result<(), ValuesError> {
    for sub in &chart.subcharts {
        let sub_prefix = path::child_key(prefix, &sub.name);
        let mut section = match values.remove(&sub.name) {
            None => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(ValuesError::Conflict {
                    origin: sub_prefix,
                    message: format!(
                        "the values for subchart {:?} must be a map, found {}",
                        sub.name,
                        kind_name(&other)
                    ),
                })
            }
        };
        coalesce_globals(&mut section, values, &sub_prefix, warnings);
        coalesce(sub, &mut section, &sub_prefix, warnings)?;
        values.insert(sub.name.clone(), Value::Object(section));
    }
    Ok(())
}

/// Merge the parent's `global` over the subchart section's `global`.
fn coalesce_globals(section: &mut Map, parent: &Map, prefix: &str, warnings: &mut Vec<String>) {
    let mut dest = match section.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            warnings.push(format!(
                "skipping globals because {prefix}.global is not a table"
            ));
            return;
        }
    };
    let source = match parent.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            warnings.push("skipping globals because the parent's global is not a table".to_owned());
            return;
        }
    };
    for (key, value) in source {
        match (value, dest.get(&key)) {
            (Value::Object(parent_table), None) => {
                dest.insert(key, Value::Object(parent_table));
            }
            (Value::Object(mut parent_table), Some(Value::Object(own))) => {
                let own = own.clone();
                coalesce_tables(
                    &mut parent_table,
                    &own,
                    &format!("{prefix}.global.{key}"),
                    true,
                    warnings,
                );
                dest.insert(key, Value::Object(parent_table));
            }
            (Value::Object(_), Some(_)) => warnings.push(format!(
                "cannot merge map onto non-map for {prefix}.global.{key}"
            )),
            (_, Some(Value::Object(_))) => {
                warnings.push(format!("key {prefix}.global.{key} is a table; skipping"))
            }
            (value, _) => {
                dest.insert(key, value);
            }
        }
    }
    section.insert(GLOBAL.to_owned(), Value::Object(dest));
}

/// Defaults, lowest first: a subchart's own `values.yaml`, then its parent's section for it.
fn default_origins(chart: &ChartValues, prefix: &str, origins: &mut Origins) {
    for sub in &chart.subcharts {
        default_origins(sub, &path::child_key(prefix, &sub.name), origins);
    }
    for (p, at) in chart
        .default_positions
        .iter()
        .filter(|(p, _)| !p.is_empty())
    {
        origins.set(
            join(prefix, p),
            Origin::ChartDefault {
                file: chart.defaults_origin.clone(),
                line: at.line,
            },
        );
    }
}

/// A subchart's `global.x` came from wherever the parent's `global.x` came from.
fn propagate_global_origins(chart: &ChartValues, prefix: &str, origins: &mut Origins) {
    let parent_global = join(prefix, GLOBAL);
    for sub in &chart.subcharts {
        let sub_prefix = path::child_key(prefix, &sub.name);
        let sub_global = join(&sub_prefix, GLOBAL);
        let inherited: Vec<(String, Origin)> = origins
            .iter()
            .filter_map(|(p, o)| {
                let rest = p.strip_prefix(&parent_global)?;
                (rest.starts_with('.') || rest.starts_with('['))
                    .then(|| (format!("{sub_global}{rest}"), o.clone()))
            })
            .collect();
        for (p, o) in inherited {
            origins.set(p, o);
        }
        propagate_global_origins(sub, &sub_prefix, origins);
    }
}

/// Drop origins of paths that are not in the final values (deleted by a `null`, or replaced
/// by a value of another shape), so every recorded origin describes a real value.
fn retain_existing(origins: &mut Origins, values: &Map) {
    fn collect(value: &Value, at: String, out: &mut std::collections::HashSet<String>) {
        match value {
            Value::Object(map) => map
                .iter()
                .for_each(|(k, v)| collect(v, path::child_key(&at, k), out)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| collect(v, path::child_index(&at, i), out)),
            _ => {}
        }
        out.insert(at);
    }
    let mut existing = std::collections::HashSet::new();
    collect(&Value::Object(values.clone()), String::new(), &mut existing);
    origins.0.retain(|p, _| existing.contains(p));
}
