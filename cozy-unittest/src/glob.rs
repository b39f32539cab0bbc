//! Shell-style patterns for template names and `-f` suite patterns: `*` and `?` stay inside one
//! path component, `**` crosses directories.

/// Whether `text` matches `pattern` as a whole.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches_from(&p, &t)
}

fn matches_from(p: &[char], t: &[char]) -> bool {
    if p.is_empty() {
        return t.is_empty();
    }
    if p.len() >= 2 && p[0] == '*' && p[1] == '*' {
        // `**/` may also match nothing at all.
        let rest = if p.get(2) == Some(&'/') {
            &p[3..]
        } else {
            &p[2..]
        };
        if matches_from(rest, t) {
            return true;
        }
        return (0..t.len())
            .any(|i| matches_from(&p[2..], &t[i + 1..]) || matches_from(rest, &t[i + 1..]));
    }
    match p[0] {
        '*' => (0..=t.len())
            .take_while(|&i| i == 0 || t[i - 1] != '/')
            .any(|i| matches_from(&p[1..], &t[i..])),
        '?' => !t.is_empty() && t[0] != '/' && matches_from(&p[1..], &t[1..]),
        c => !t.is_empty() && t[0] == c && matches_from(&p[1..], &t[1..]),
    }
}

/// Whether the text contains pattern characters.
pub fn is_pattern(text: &str) -> bool {
    text.contains('*') || text.contains('?')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_in_one_component() {
        assert!(glob_match("templates/*.yaml", "templates/a.yaml"));
        assert!(!glob_match("templates/*.yaml", "templates/sub/a.yaml"));
        assert!(glob_match("templates/**/*.yaml", "templates/sub/a.yaml"));
        assert!(glob_match("templates/**/*.yaml", "templates/a.yaml"));
        assert!(glob_match("tests/*_test.yaml", "tests/x_test.yaml"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "a/c"));
        assert!(glob_match("**", "x/y/z"));
        assert!(!glob_match("*.yaml", "x.yml"));
    }
}
