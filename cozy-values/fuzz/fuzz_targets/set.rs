//! Any expression: every `--set` flavour returns values or an error whose column lies within
//! the expression (or just past its end), never panics.
#![no_main]

use cozy_values::{strvals, Map, ValuesError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else { return };
    for parse in [strvals::parse_set, strvals::parse_set_string, strvals::parse_set_json, strvals::parse_set_literal] {
        let mut values = Map::new();
        if let Err(ValuesError::Set { column, .. }) = parse(expr, &mut values) {
            assert!(column >= 1 && column <= expr.chars().count() + 1);
        }
    }
});
