//! The Helm function table, grouped by subject. Every function takes its arguments in Helm's
//! order; `register` adapts them to minijinja's function and filter calling conventions.

use minijinja::value::Value;

use crate::error::FuncResult;

mod case_words;
mod dicts;
mod digests;
mod floats;
mod fmt;
mod lists;
mod logic;
mod math;
mod random;
mod regex;
mod semver;
mod serialization;
mod strings;
mod types;
mod url;

pub use dicts::deep_copy;
pub use semver::{Constraints, Version};
pub use url::{parse_url, UrlParts};

/// A Helm function: arguments in Helm's order (the piped value last).
pub type HelmFn = fn(&[Value]) -> FuncResult;

/// Every function of the library, by Helm name.
pub fn all() -> impl Iterator<Item = (&'static str, HelmFn)> {
    [
        strings::FUNCS,
        digests::FUNCS,
        case_words::FUNCS,
        lists::FUNCS,
        dicts::FUNCS,
        logic::FUNCS,
        math::FUNCS,
        floats::FUNCS,
        types::FUNCS,
        serialization::FUNCS,
        regex::FUNCS,
        semver::FUNCS,
        url::FUNCS,
        fmt::FUNCS,
        random::FUNCS,
    ]
    .into_iter()
    .flat_map(|table| table.iter().copied())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn every_name_is_registered_once() {
        let mut seen = BTreeSet::new();
        for (name, _) in super::all() {
            assert!(seen.insert(name), "{name} appears in two function tables");
        }
        for required in [
            "toYaml",
            "default",
            "mergeOverwrite",
            "semverCompare",
            "urlParse",
            "printf",
            "kindIs",
        ] {
            assert!(seen.contains(required), "{required} is missing");
        }
    }
}
