//! Any text: the YAML reader returns values or an error with a position, never panics, and
//! stays within its limits.
#![no_main]

use cozy_values::yaml::{self, NumberMode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for mode in [NumberMode::Helm, NumberMode::Native] {
        if let Err(err) = yaml::parse_str(text, "fuzz.yaml", mode) {
            let loc = err.location().expect("YAML errors carry a location");
            assert!(loc.line >= 1 && loc.column >= 1);
            let _ = format!("{err:#}");
        }
        let _ = yaml::parse_documents(text, mode);
    }
});
