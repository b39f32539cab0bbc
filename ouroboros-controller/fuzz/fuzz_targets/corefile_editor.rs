//! Fuzzes the Corefile editor and syntax checker: arbitrary Corefile text and host lists must
//! never panic, and any successful edit must be idempotent and reversible.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ouroboros_controller::corefile::{apply_block, check_syntax};

const TARGET: &str = "ouroboros-proxy.ouroboros.svc.cluster.local.";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // First line: hosts separated by spaces; the rest: the Corefile.
    let (hosts_line, corefile) = text.split_once('\n').unwrap_or((text, ""));
    let hosts: Vec<&str> = hosts_line.split(' ').collect();
    let _ = check_syntax(corefile);
    if let Ok(edit) = apply_block(corefile, &hosts, TARGET) {
        let again = apply_block(&edit.text, &hosts, TARGET).expect("re-apply of own output failed");
        assert!(!again.changed, "re-apply changed the text");
        let removed = apply_block(&edit.text, &[] as &[&str], TARGET).expect("removal failed");
        if edit.changed {
            let restored = apply_block(corefile, &[] as &[&str], TARGET).expect("removal on input failed");
            assert_eq!(removed.text, restored.text);
        }
    }
});
