//! Fuzzes the Corefile editor and syntax checker: arbitrary Corefile text and host lists must
//! never panic, any successful edit must be idempotent and reversible, and the block-only
//! re-edit the controller uses on its own output must equal a full edit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ouroboros_controller::corefile::{
    apply_block, apply_block_tracked, check_syntax, EditedCorefile,
};
use ouroboros_controller::hostnames::NormalisedHosts;

const TARGET: &str = "ouroboros-proxy.ouroboros.svc.cluster.local.";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // First line: two host lists separated by `|`, hosts separated by spaces; the rest: the
    // Corefile.
    let (hosts_line, corefile) = text.split_once('\n').unwrap_or((text, ""));
    let (first_line, second_line) = hosts_line.split_once('|').unwrap_or((hosts_line, ""));
    let hosts: Vec<&str> = first_line.split(' ').collect();
    let next: Vec<&str> = second_line.split(' ').collect();
    let _ = check_syntax(corefile);
    let Ok((edit, layout)) = apply_block_tracked(corefile, &hosts, TARGET) else { return };
    assert_eq!(apply_block(corefile, &hosts, TARGET).as_ref(), Ok(&edit));
    let again = apply_block(&edit.text, &hosts, TARGET).expect("re-apply of own output failed");
    assert!(!again.changed, "re-apply changed the text");
    let removed = apply_block(&edit.text, &[] as &[&str], TARGET).expect("removal failed");
    if edit.changed {
        let restored =
            apply_block(corefile, &[] as &[&str], TARGET).expect("removal on input failed");
        assert_eq!(removed.text, restored.text);
    }
    if let Some(layout) = layout {
        let edited = EditedCorefile::new(edit.text.clone(), layout);
        let quick = edited.reapply(&NormalisedHosts::new(&next), TARGET);
        let full = apply_block_tracked(&edit.text, &next, TARGET);
        assert_eq!(quick, full, "block-only re-edit differs from a full edit");
    }
});
