//! `snakecase` and `kebabcase`: xstrings' word splitting as Sprig uses it ("HTTPServer" →
//! "http_server", "v1Beta2" → "v1_beta2", "Bld4Floor" → "bld4_floor").

use minijinja::value::Value;

use super::HelmFn;
use crate::args::Args;
use crate::error::FuncResult;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[("snakecase", snakecase), ("kebabcase", kebabcase)];

#[derive(Debug, Clone, Copy, PartialEq)]
enum WordType {
    Invalid,
    Number,
    UpperCase,
    Alphabet,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

fn is_alphabet(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() && !is_connector(c)
}

/// Splits the next word off `s` (xstrings' `nextWord`).
fn next_word(s: &[char]) -> (WordType, &[char], &[char]) {
    let Some(&first) = s.first() else {
        return (WordType::Invalid, &[], &[]);
    };
    let take_while = |from: usize, pred: &dyn Fn(char) -> bool| -> usize {
        let mut end = from;
        while end < s.len() && pred(s[end]) {
            end += 1;
        }
        end
    };
    let (kind, end) = if is_connector(first) {
        (WordType::Connector, take_while(1, &is_connector))
    } else if is_punct(first) {
        (WordType::Punct, take_while(1, &is_punct))
    } else if first.is_uppercase() {
        match s.get(1) {
            Some(&second) if second.is_uppercase() => {
                let end = take_while(1, &|c: char| c.is_uppercase());
                // "HTTPStatus": the last capital starts the next word.
                if end < s.len() && is_alphabet(s[end]) {
                    (WordType::UpperCase, end - 1)
                } else {
                    (WordType::UpperCase, end)
                }
            }
            Some(&second) if is_alphabet(second) => (
                WordType::UpperCase,
                take_while(1, &|c: char| is_alphabet(c) && !c.is_uppercase()),
            ),
            _ => (WordType::UpperCase, 1),
        }
    } else if is_alphabet(first) {
        (
            WordType::Alphabet,
            take_while(1, &|c: char| is_alphabet(c) && !c.is_uppercase()),
        )
    } else if first.is_numeric() {
        (WordType::Number, take_while(1, &|c: char| c.is_numeric()))
    } else {
        let end = take_while(1, &|c: char| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        (WordType::Other, end)
    };
    (kind, &s[..end], &s[end..])
}

fn write_lower(out: &mut String, kind: WordType, word: &[char], connector: char) {
    if kind != WordType::UpperCase && kind != WordType::Connector {
        out.extend(word);
        return;
    }
    for &c in word {
        if is_connector(c) {
            out.push(connector);
        } else {
            out.extend(c.to_lowercase().next());
        }
    }
}

/// xstrings' `camelCaseToLowerCase`.
fn to_lower_words(input: &str, connector: char) -> String {
    let chars: Vec<char> = input.chars().collect();
    let mut out = String::new();
    if chars.is_empty() {
        return out;
    }
    let (mut kind, mut word, mut remaining) = next_word(&chars);
    while !remaining.is_empty() {
        if kind != WordType::Connector {
            write_lower(&mut out, kind, word, connector);
        }
        let previous = kind;
        let last = word;
        (kind, word, remaining) = next_word(remaining);
        match previous {
            WordType::Number => {
                while kind == WordType::Alphabet || kind == WordType::Number {
                    write_lower(&mut out, kind, word, connector);
                    (kind, word, remaining) = next_word(remaining);
                }
                if !matches!(
                    kind,
                    WordType::Invalid | WordType::Punct | WordType::Connector
                ) {
                    out.push(connector);
                }
            }
            WordType::Connector => write_lower(&mut out, previous, last, connector),
            WordType::Punct => {}
            _ => {
                if kind != WordType::Number {
                    if kind != WordType::Connector && kind != WordType::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let number = word;
                (kind, word, remaining) = next_word(remaining);
                if kind != WordType::Alphabet {
                    write_lower(&mut out, WordType::Number, number, connector);
                    if kind != WordType::Connector && kind != WordType::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                write_lower(&mut out, WordType::Number, number, connector);
                while kind == WordType::Alphabet || kind == WordType::Number {
                    write_lower(&mut out, kind, word, connector);
                    (kind, word, remaining) = next_word(remaining);
                }
                if !matches!(
                    kind,
                    WordType::Invalid | WordType::Connector | WordType::Punct
                ) {
                    out.push(connector);
                }
            }
        }
    }
    write_lower(&mut out, kind, word, connector);
    out
}

fn snakecase(values: &[Value]) -> FuncResult {
    let args = Args::new("snakecase", values);
    args.exact(1)?;
    Ok(Value::from(to_lower_words(&args.string(0)?, '_')))
}

fn kebabcase(values: &[Value]) -> FuncResult {
    let args = Args::new("kebabcase", values);
    args.exact(1)?;
    Ok(Value::from(to_lower_words(&args.string(0)?, '-')))
}
