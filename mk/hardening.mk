# Fuzzing (fuzz/, its own workspace). `make fuzz` runs every target for FUZZ_SECONDS each.
# cargo-fuzz needs unstable compiler flags (sanitizer coverage); RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them, so no nightly toolchain is needed.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= set_parser values_yaml manifest_reader values_schema render_package unittest_path snapshot_file object_diff
# New inputs found while fuzzing go here, not into the committed corpora (fuzz/corpus/<target>,
# read as seeds). Copy a finding into fuzz/corpus/<target> to make it a regression case.
FUZZ_WORK ?= fuzz/target/work-corpus

.PHONY: fuzz fuzz-replay bench-billion-laughs bench-lookup-rss

fuzz:
	@cargo fuzz --version >/dev/null 2>&1 || { echo "make fuzz needs cargo-fuzz: cargo install cargo-fuzz"; exit 2; }
	@set -e; work=$$(mkdir -p $(FUZZ_WORK) && cd $(FUZZ_WORK) && pwd); cd fuzz; \
	for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		mkdir -p "$$work/$$t"; \
		RUSTC_BOOTSTRAP=1 cargo fuzz run $$t "$$work/$$t" corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536; \
	done

# The committed corpora as ordinary tests (what CI runs).
fuzz-replay:
	cargo test -p cozy-render --test broken_inputs fuzz_corpus

# Billion laughs refused in under a second and 50 MiB.
bench-billion-laughs:
	bench/hardening/billion-laughs.sh

# Peak RSS of a plain `template` (the live lookup provider must not make it grow).
bench-lookup-rss:
	bench/hardening/template-rss.sh
