#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cozy_fuzz::checks::manifest_reader(data));
