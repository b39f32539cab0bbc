//! Line diffs for failure messages (expected vs actual), in unified style with one line of
//! context, like helm-unittest prints them.

/// A unified diff of two texts; empty when they are equal.
pub fn unified(expected: &str, actual: &str) -> String {
    if expected == actual {
        return String::new();
    }
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let ops = line_ops(&a, &b);
    let mut out = String::from("--- Expected\n+++ Actual\n");
    // Keep changed lines plus one line of context around each change.
    let changed: Vec<bool> = ops.iter().map(|(tag, _)| *tag != ' ').collect();
    let mut last_printed: Option<usize> = None;
    for (i, (tag, line)) in ops.iter().enumerate() {
        let near =
            changed[i] || (i > 0 && changed[i - 1]) || changed.get(i + 1).copied().unwrap_or(false);
        if !near {
            continue;
        }
        if let Some(prev) = last_printed {
            if i > prev + 1 {
                out.push_str("@@ ... @@\n");
            }
        }
        out.push(*tag);
        out.push_str(line);
        out.push('\n');
        last_printed = Some(i);
    }
    out
}

/// Longest-common-subsequence edit script: (' ' | '-' | '+', line).
fn line_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(char, &'a str)> {
    let (n, m) = (a.len(), b.len());
    // Inputs are assertion values, small enough for the quadratic table; cap to stay bounded.
    if n.saturating_mul(m) > 4_000_000 {
        let mut ops: Vec<(char, &str)> = a.iter().map(|l| ('-', *l)).collect();
        ops.extend(b.iter().map(|l| ('+', *l)));
        return ops;
    }
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    ops.extend(a[i..].iter().map(|l| ('-', *l)));
    ops.extend(b[j..].iter().map(|l| ('+', *l)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changes_with_context() {
        let d = unified("a\nb\nc\nd\ne\n", "a\nb\nX\nd\ne\n");
        assert_eq!(d, "--- Expected\n+++ Actual\n b\n-c\n+X\n d\n");
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("x", "x"), "");
    }

    #[test]
    fn separated_hunks_are_marked() {
        let d = unified("1\n2\n3\n4\n5\n6\n7\n", "0\n2\n3\n4\n5\n6\n8\n");
        assert!(d.contains("@@ ... @@"), "{d}");
    }
}
