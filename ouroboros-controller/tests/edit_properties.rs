//! Property tests of the pure editors: applying is idempotent, independent of the previous
//! host set, never changes a byte outside the owned block, and the block-only re-edit of a
//! Corefile the editor produced gives exactly what a full edit gives.

use ouroboros_controller::corefile::{
    apply_block, apply_block_tracked, check_syntax, EditedCorefile,
};
use ouroboros_controller::hostnames::NormalisedHosts;
use ouroboros_controller::hosts_file::apply_hosts_block;
use ouroboros_controller::markers::{BEGIN, END};
use proptest::prelude::*;

const TARGET: &str = "ouroboros-proxy.ouroboros.svc.cluster.local.";

fn plugin_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("errors".to_string()),
        Just("cache 30".to_string()),
        Just("reload".to_string()),
        Just("# a comment { with braces }".to_string()),
        Just("forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }".to_string()),
        Just("".to_string()),
        "[a-z]{1,8}( [a-z0-9.:]{1,10}){0,3}",
    ]
}

fn corefile() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(plugin_line(), 0..6),
        prop_oneof![Just("    "), Just("  "), Just("\t")],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(body, indent, trailing_newline, extra_block)| {
            let mut text = String::from("# leading comment\n.:53 {\n");
            for line in body {
                if line.is_empty() {
                    text.push('\n');
                } else {
                    text.push_str(&format!("{indent}{line}\n"));
                }
            }
            text.push('}');
            if extra_block {
                text.push_str("\nexample.org:53 {\n    forward . 1.1.1.1\n}");
            }
            if trailing_newline {
                text.push('\n');
            }
            text
        })
}

/// A Corefile that may already hold an owned block somewhere inside `.:53`, possibly followed
/// by other plugins or blank lines.
fn corefile_with_block() -> impl Strategy<Value = String> {
    (
        corefile(),
        any::<prop::sample::Index>(),
        any::<bool>(),
        prop_oneof![Just(" "), Just("\t")],
    )
        .prop_map(|(text, at, with_block, indent)| {
            if !with_block {
                return text;
            }
            let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
            let open = lines
                .iter()
                .position(|l| l.starts_with(".:53"))
                .unwrap_or(0);
            let close = lines.iter().position(|l| l == "}").unwrap_or(lines.len());
            let pos = open + 1 + at.index(close - open);
            let block = [
                format!("{indent}{BEGIN}"),
                format!("{indent}rewrite name old.example.com {TARGET}"),
                format!("{indent}{END}"),
            ];
            lines.splice(pos..pos, block);
            lines.join("\n")
        })
}

fn host_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-zA-Z0-9*?. _{}#-]{0,24}", 0..8)
}

proptest! {
    #[test]
    fn corefile_reapply_is_idempotent(text in corefile(), hosts in host_list()) {
        let first = apply_block(&text, &hosts, TARGET).unwrap();
        let second = apply_block(&first.text, &hosts, TARGET).unwrap();
        prop_assert!(!second.changed);
        prop_assert_eq!(&second.text, &first.text);
    }

    #[test]
    fn corefile_outside_the_block_is_untouched(text in corefile(), hosts in host_list(), other in host_list()) {
        let edited = apply_block(&text, &hosts, TARGET).unwrap();
        let removed = apply_block(&edited.text, &[] as &[&str], TARGET).unwrap();
        prop_assert_eq!(&removed.text, &text);
        let via_other = apply_block(&apply_block(&text, &other, TARGET).unwrap().text, &hosts, TARGET).unwrap();
        prop_assert_eq!(&via_other.text, &edited.text);
    }

    #[test]
    fn corefile_block_only_reedit_equals_full_edit(
        text in corefile_with_block(),
        first in host_list(),
        second in host_list(),
        third in host_list(),
    ) {
        let (edit, layout) = apply_block_tracked(&text, &first, TARGET).unwrap();
        let Some(layout) = layout else {
            prop_assert!(apply_block(&text, &first, TARGET).unwrap().text == edit.text);
            return Ok(());
        };
        let mut edited = EditedCorefile::new(edit.text, layout);
        for hosts in [&second, &third] {
            let full = apply_block_tracked(edited.text(), hosts, TARGET).unwrap();
            let quick = edited.reapply(&NormalisedHosts::new(hosts), TARGET).unwrap();
            prop_assert_eq!(&quick, &full);
            match quick {
                (edit, Some(layout)) => edited = EditedCorefile::new(edit.text, layout),
                (_, None) => break,
            }
        }
    }

    #[test]
    fn corefile_stays_parseable(text in corefile(), hosts in host_list()) {
        prop_assume!(check_syntax(&text).is_ok());
        let edited = apply_block(&text, &hosts, TARGET).unwrap();
        prop_assert!(check_syntax(&edited.text).is_ok(), "{}", edited.text);
    }

    #[test]
    fn hosts_file_reapply_and_removal(lines in prop::collection::vec("[0-9a-z.: \t#]{0,30}", 0..6), nl in any::<bool>(), hosts in host_list()) {
        let mut text = lines.join("\n");
        if nl && !text.is_empty() {
            text.push('\n');
        }
        let first = apply_hosts_block(&text, &hosts, "10.96.1.2").unwrap();
        let second = apply_hosts_block(&first.text, &hosts, "10.96.1.2").unwrap();
        prop_assert!(!second.changed);
        let removed = apply_hosts_block(&first.text, &[] as &[&str], "10.96.1.2").unwrap();
        if text.is_empty() {
            prop_assert!(removed.text.is_empty() || removed.text == "\n");
        } else {
            prop_assert_eq!(&removed.text, &text);
        }
    }
}
