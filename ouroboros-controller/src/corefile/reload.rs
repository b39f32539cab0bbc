//! Detection of the `reload` plugin (spec §8.6): without it CoreDNS never sees our edits.

/// True when some line, with comments stripped and trimmed, starts with the token `reload`.
pub fn has_reload_plugin(corefile: &str) -> bool {
    corefile.lines().any(|line| {
        let code = line.split('#').next().unwrap_or("");
        code.split_whitespace().next() == Some("reload")
    })
}

#[cfg(test)]
mod tests {
    use super::has_reload_plugin;

    #[test]
    fn detection_rules() {
        assert!(has_reload_plugin(".:53 {\n    reload\n}\n"));
        assert!(has_reload_plugin(".:53 {\n\treload 5s\n}"));
        assert!(has_reload_plugin(".:53 {\n  reload # keep\n}"));
        assert!(!has_reload_plugin(".:53 {\n    # reload\n}\n"));
        assert!(!has_reload_plugin(".:53 {\n    reloaded\n}\n"));
        assert!(!has_reload_plugin(""));
    }
}
