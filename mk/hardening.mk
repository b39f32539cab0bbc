# Fuzzing (fuzz/, its own workspace). `make fuzz` runs every target for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= set_parser values_yaml values_schema render_package

.PHONY: fuzz fuzz-replay bench-billion-laughs

fuzz:
	@cargo +nightly --version >/dev/null 2>&1 || { echo "make fuzz needs a nightly toolchain: rustup toolchain install nightly"; exit 2; }
	@cargo +nightly fuzz --version >/dev/null 2>&1 || { echo "make fuzz needs cargo-fuzz: cargo install cargo-fuzz"; exit 2; }
	@set -e; cd fuzz; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		mkdir -p corpus/$$t; \
		cargo +nightly fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536; \
	done

# The committed corpora as ordinary tests (what CI runs).
fuzz-replay:
	cargo test -p cozy-render --test broken_inputs fuzz_corpus

# Billion laughs refused in under a second and 50 MiB.
bench-billion-laughs:
	bench/hardening/billion-laughs.sh
