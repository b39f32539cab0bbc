//! No input makes the readers panic: pseudo-random expressions and mutated YAML documents
//! must either parse or return an error.

use cozy_values::strvals;
use cozy_values::yaml::{self, NumberMode};
use cozy_values::Map;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn set_expressions_never_panic() {
    let alphabet: Vec<char> = "ab.[]=,{}\\0129-\" :é\t".chars().collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut errors = 0;
    for _ in 0..6_000 {
        let len = rng.below(14);
        let expr: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        for parse in [
            strvals::parse_set,
            strvals::parse_set_string,
            strvals::parse_set_json,
            strvals::parse_set_literal,
        ] {
            let mut values = Map::new();
            if let Err(err) = parse(&expr, &mut values) {
                errors += 1;
                // Every error points inside the expression or just past its end.
                if let cozy_values::ValuesError::Set { column, .. } = err {
                    assert!(
                        column >= 1 && column <= expr.chars().count() + 1,
                        "{expr:?}: column {column}"
                    );
                }
            }
        }
    }
    assert!(
        errors > 300,
        "the generator should hit malformed input often"
    );
}

#[test]
fn mutated_yaml_never_panics() {
    let seed = include_str!("fixtures/yaml/helm-scalars.yaml")
        .as_bytes()
        .to_vec();
    let inserts = b"-:[]{}&*!|>'\"#,?%@` \n\t<";
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..800 {
        let mut doc = seed.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(doc.len());
            if rng.below(2) == 0 {
                doc.remove(at);
            } else {
                doc.insert(at, inserts[rng.below(inserts.len())]);
            }
        }
        let text = String::from_utf8_lossy(&doc);
        for mode in [NumberMode::Helm, NumberMode::Native] {
            if let Err(err) = yaml::parse_str(&text, "fuzz.yaml", mode) {
                let loc = err.location().expect("YAML errors carry a location");
                assert!(loc.line >= 1 && loc.column >= 1, "{err}");
                let _ = format!("{err:#}");
            }
            let _ = yaml::parse_documents(&text, mode);
        }
    }
}
