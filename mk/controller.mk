# ouroboros-controller targets.
CONTROLLER_TARGET_DIR ?= target

.PHONY: test-controller bench-controller fuzz-controller

# Unit, property and stand-in integration tests of the controller crate.
test-controller:
	CARGO_TARGET_DIR=$(CONTROLLER_TARGET_DIR) $(CARGO) test -p ouroboros-controller

# 10,000 Ingresses in the API stand-in: time to first complete write, writes during the initial
# sync, p99 change-to-write latency, peak RSS; compared with a 15 s polling design. The dev
# profile is enough: the workspace builds dependencies with opt-level 2.
bench-controller:
	CARGO_TARGET_DIR=$(CONTROLLER_TARGET_DIR) $(CARGO) test -p ouroboros-controller --test bench_controller -- --ignored --nocapture

# Fuzz the Corefile editor (needs nightly and cargo-fuzz).
fuzz-controller:
	cd ouroboros-controller/fuzz && cargo +nightly fuzz run corefile_editor -- -max_total_time=60
