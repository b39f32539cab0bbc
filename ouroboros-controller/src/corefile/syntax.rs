//! A Corefile syntax checker: the Caddyfile lexer rules CoreDNS uses (whitespace-separated
//! tokens, `#` comments at token start, double-quoted tokens with `\` escapes) and the block
//! structure (server blocks of address keys, directive lines, nested plugin blocks, `import`,
//! snippets). It answers "would CoreDNS parse this?", not "is every plugin configured right".

use std::fmt;

/// A syntax error with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CorefileSyntaxError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CorefileSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Corefile syntax error on line {}: {}",
            self.line, self.message
        )
    }
}

fn error(line: usize, message: impl Into<String>) -> CorefileSyntaxError {
    CorefileSyntaxError {
        line,
        message: message.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
    quoted: bool,
}

impl Token {
    fn is(&self, s: &str) -> bool {
        !self.quoted && self.text == s
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, CorefileSyntaxError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(&c) = chars.peek() {
        if c == '\n' {
            line += 1;
            chars.next();
        } else if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            while chars.peek().is_some_and(|&c| c != '\n') {
                chars.next();
            }
        } else if c == '"' {
            let start = line;
            chars.next();
            let mut value = String::new();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some('"') => value.push('"'),
                        Some(other) => {
                            if other == '\n' {
                                line += 1;
                            }
                            value.push('\\');
                            value.push(other);
                        }
                        None => break,
                    },
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\n' => {
                        line += 1;
                        value.push('\n');
                    }
                    other => value.push(other),
                }
            }
            if !closed {
                return Err(error(start, "unterminated quoted string"));
            }
            tokens.push(Token {
                text: value,
                line: start,
                quoted: true,
            });
        } else {
            let mut value = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
            tokens.push(Token {
                text: value,
                line,
                quoted: false,
            });
        }
    }
    Ok(tokens)
}

/// Tokens grouped by the line they start on.
fn logical_lines(tokens: Vec<Token>) -> Vec<Vec<Token>> {
    let mut lines: Vec<Vec<Token>> = Vec::new();
    for token in tokens {
        match lines.last_mut() {
            Some(current) if current[0].line == token.line => current.push(token),
            _ => lines.push(vec![token]),
        }
    }
    lines
}

/// Checks a whole Corefile: server blocks (and top-level `import` lines and snippets) only.
pub fn check_syntax(text: &str) -> Result<(), CorefileSyntaxError> {
    let lines = logical_lines(tokenize(text)?);
    if lines.is_empty() {
        return Err(error(1, "empty Corefile"));
    }
    let mut rest = lines.as_slice();
    while let Some((first, tail)) = rest.split_first() {
        rest = match top_level_line(first)? {
            TopLevel::Import => tail,
            TopLevel::BlockOpened { line } => {
                let after = body(tail, line)?;
                after
            }
        };
    }
    Ok(())
}

/// Checks text that is meant to sit inside a server block, such as an `import`ed snippet.
/// Empty text is valid (an empty snippet imports nothing).
pub fn check_snippet_syntax(text: &str) -> Result<(), CorefileSyntaxError> {
    let lines = logical_lines(tokenize(text)?);
    let mut rest = lines.as_slice();
    while let Some((first, tail)) = rest.split_first() {
        rest = directive_line(first, tail, false)?;
    }
    Ok(())
}

enum TopLevel {
    Import,
    BlockOpened { line: usize },
}

fn top_level_line(tokens: &[Token]) -> Result<TopLevel, CorefileSyntaxError> {
    let first = &tokens[0];
    if first.is("}") {
        return Err(error(first.line, "unexpected '}' outside any block"));
    }
    if first.is("{") {
        return Err(error(first.line, "'{' without a server address before it"));
    }
    if first.is("import") {
        check_import(tokens)?;
        return Ok(TopLevel::Import);
    }
    let last = &tokens[tokens.len() - 1];
    let keys: &[Token] = if last.is("{") {
        &tokens[..tokens.len() - 1]
    } else if !last.quoted && last.text.ends_with('{') && last.text.len() > 1 {
        tokens
    } else {
        return Err(error(
            first.line,
            format!("server block {:?} must end its line with '{{'", first.text),
        ));
    };
    for (idx, key) in keys.iter().enumerate() {
        let text = if idx + 1 == keys.len() {
            key.text.trim_end_matches('{')
        } else {
            key.text.as_str()
        };
        let text = text.trim_end_matches(',');
        if key.quoted || text.is_empty() || text.contains('{') || text.contains('}') {
            return Err(error(
                key.line,
                format!("invalid server address {:?}", key.text),
            ));
        }
    }
    Ok(TopLevel::BlockOpened { line: first.line })
}

fn check_import(tokens: &[Token]) -> Result<(), CorefileSyntaxError> {
    if tokens.len() < 2 {
        return Err(error(
            tokens[0].line,
            "import needs a file pattern or snippet name",
        ));
    }
    if let Some(brace) = tokens[1..].iter().find(|t| t.is("{") || t.is("}")) {
        return Err(error(brace.line, "unexpected brace after import"));
    }
    Ok(())
}

/// Consumes the body of a block opened on `open_line` through its closing `}`; returns the
/// lines after it.
fn body(mut rest: &[Vec<Token>], open_line: usize) -> Result<&[Vec<Token>], CorefileSyntaxError> {
    loop {
        let Some((first, tail)) = rest.split_first() else {
            return Err(error(open_line, "block opened here is never closed"));
        };
        if first[0].is("}") {
            if first.len() > 1 {
                return Err(error(first[1].line, "'}' must be alone on its line"));
            }
            return Ok(tail);
        }
        rest = directive_line(first, tail, true)?;
    }
}

/// One directive line, and its nested block when the line ends with `{`.
fn directive_line<'a>(
    tokens: &[Token],
    tail: &'a [Vec<Token>],
    inside_block: bool,
) -> Result<&'a [Vec<Token>], CorefileSyntaxError> {
    let first = &tokens[0];
    if first.is("}") {
        let what = if inside_block {
            "'}' must be alone on its line"
        } else {
            "unexpected '}'"
        };
        return Err(error(first.line, what));
    }
    if first.is("{") {
        return Err(error(first.line, "'{' without a directive before it"));
    }
    if first.quoted {
        return Err(error(first.line, "a directive name cannot be quoted"));
    }
    if first.is("import") {
        check_import(tokens)?;
        return Ok(tail);
    }
    for (idx, token) in tokens.iter().enumerate() {
        let last = idx + 1 == tokens.len();
        if token.is("}") {
            return Err(error(token.line, "'}' must be alone on its line"));
        }
        if token.is("{") && !last {
            return Err(error(token.line, "'{' must end its line"));
        }
    }
    if tokens[tokens.len() - 1].is("{") {
        return body(tail, first.line);
    }
    Ok(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBEADM: &str = ".:53 {
    errors
    health {
       lameduck 5s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    import /etc/coredns/custom/*.override
    reload
}
import /etc/coredns/custom/*.server
example.org:53 dns://ext.example.com:53 {
    template IN A {
       answer \"{{ .Name }} 60 IN A 127.0.0.1\"
    }
}
";

    #[test]
    fn accepts_realistic_corefiles() {
        check_syntax(KUBEADM).unwrap();
        check_syntax(".:53{\n  errors\n}").unwrap();
        check_syntax("(common) {\n  errors\n}\n.:53 {\n  import common\n}\n").unwrap();
        check_syntax("# only a comment first\n.:53 { # trailing comment\n  errors\n}\n").unwrap();
    }

    fn err(text: &str) -> (usize, String) {
        let e = check_syntax(text).unwrap_err();
        (e.line, e.message)
    }

    #[test]
    fn rejects_structural_errors_with_lines() {
        assert_eq!(err(""), (1, "empty Corefile".into()));
        assert_eq!(err("# nothing\n"), (1, "empty Corefile".into()));
        assert_eq!(
            err(".:53 {\n  errors\n"),
            (1, "block opened here is never closed".into())
        );
        assert_eq!(
            err(".:53 {\n}\n}\n"),
            (3, "unexpected '}' outside any block".into())
        );
        assert_eq!(err(".:53\n{\n}\n").0, 1);
        assert_eq!(
            err(".:53 {\n  errors }\n}\n"),
            (2, "'}' must be alone on its line".into())
        );
        assert_eq!(
            err(".:53 {\n  forward . { x\n  }\n}\n"),
            (2, "'{' must end its line".into())
        );
        assert_eq!(
            err(".:53 {\n  import\n}\n"),
            (2, "import needs a file pattern or snippet name".into())
        );
        assert_eq!(
            err(".:53 {\n  log \"oops\n}\n"),
            (2, "unterminated quoted string".into())
        );
        assert_eq!(err("{\n}\n").0, 1);
        assert_eq!(
            err(".:53 {\n  {\n  }\n}\n"),
            (2, "'{' without a directive before it".into())
        );
        assert_eq!(
            err(".:53 {\n  errors\n} x\n"),
            (3, "'}' must be alone on its line".into())
        );
    }

    #[test]
    fn quoted_braces_and_comments_do_not_count() {
        check_syntax(".:53 {\n  log \"{ not a brace }\"\n  errors # }\n}\n").unwrap();
        check_syntax(".:53 {\n  log \"a \\\" quote\"\n}\n").unwrap();
    }

    #[test]
    fn snippets_are_directive_lines_only() {
        check_snippet_syntax("").unwrap();
        check_snippet_syntax("rewrite name a.com t.local.\nrewrite name b.com t.local.\n").unwrap();
        check_snippet_syntax("forward . 1.1.1.1 {\n  max_fails 2\n}\n").unwrap();
        assert_eq!(
            check_snippet_syntax("}\n").unwrap_err().message,
            "unexpected '}'"
        );
        assert_eq!(check_snippet_syntax("a {\n").unwrap_err().line, 1);
    }

    #[test]
    fn injected_server_block_in_a_snippet_is_caught() {
        let injected = "rewrite name a.com t.\n}\nevil:53 {\n  forward . 6.6.6.6\n";
        assert!(check_snippet_syntax(injected).is_err());
    }

    #[test]
    fn display_names_the_line() {
        let e = check_syntax(".:53 {\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Corefile syntax error on line 1: block opened here is never closed"
        );
    }
}
