//! Reading a Corefile the way CoreDNS would: where a line sits, and what an `import` pulls in.

/// The marker lines the controller's block starts and ends with.
pub const BEGIN: &str = "# === BEGIN ouroboros";
pub const END: &str = "# === END ouroboros";

/// The exact rule for `host`, as CoreDNS's rewrite plugin takes it.
pub fn rewrite(host: &str, target: &str) -> String {
    format!("rewrite name {host} {target}")
}

/// The server block keys (e.g. `.:53`) enclosing the first line that contains `needle`,
/// with the brace depth at that line; `None` when no line contains it.
pub fn enclosing_server_block(text: &str, needle: &str) -> Option<(String, usize)> {
    let mut depth = 0usize;
    let mut server = String::new();
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or("").trim();
        if line.contains(needle) {
            return Some((server, depth));
        }
        if depth == 0 && code.ends_with('{') {
            server = code.trim_end_matches('{').trim().to_string();
        }
        depth += code.matches('{').count();
        depth = depth.saturating_sub(code.matches('}').count());
    }
    None
}

/// The Corefile with every BEGIN..END block (markers included) cut out.
pub fn without_block(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        if line.contains(BEGIN) {
            inside = true;
        } else if line.contains(END) {
            inside = false;
        } else if !inside {
            out.push_str(line);
        }
    }
    out
}

/// The Corefile as CoreDNS sees it after expanding `import <pattern>` lines whose pattern
/// matches `file_name` with the file's `snippet`; returns the text and how many lines were
/// expanded. Only `*` globs in the last path segment are supported (what the chart uses).
pub fn expand_import(corefile: &str, file_name: &str, snippet: &str) -> (String, usize) {
    let mut out = String::new();
    let mut expanded = 0;
    for line in corefile.split_inclusive('\n') {
        let mut words = line.split_whitespace();
        if words.next() == Some("import") {
            if let Some(pattern) = words.next() {
                if glob_matches(pattern.rsplit('/').next().unwrap_or(pattern), file_name) {
                    out.push_str(snippet);
                    if !snippet.ends_with('\n') {
                        out.push('\n');
                    }
                    expanded += 1;
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    (out, expanded)
}

fn glob_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            name.starts_with(prefix)
                && (0..=name.len() - prefix.len())
                    .any(|i| glob_matches(rest, &name[prefix.len() + i..]))
        }
    }
}
