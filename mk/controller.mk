# ouroboros-controller targets.
CONTROLLER_TARGET_DIR ?= target
# The benchmark measures the binary as it ships (release). `CONTROLLER_BENCH_PROFILE=` runs it
# on the dev profile instead (slower: our code unoptimised, debug assertions everywhere).
CONTROLLER_BENCH_PROFILE ?= --release
CONTROLLER_FUZZ_SECONDS ?= 60

.PHONY: test-controller bench-controller fuzz-controller

# Unit, property and stand-in integration tests of the controller crate.
test-controller:
	CARGO_TARGET_DIR=$(CONTROLLER_TARGET_DIR) $(CARGO) test -p ouroboros-controller

# 10,000 Ingresses in the API stand-in: time to first complete write, writes during the initial
# sync, p50/p99 change-to-write latency, peak RSS; compared with a 15 s polling design.
# BENCH_INGRESSES / BENCH_CHANGES override the sizes.
bench-controller:
	CARGO_TARGET_DIR=$(CONTROLLER_TARGET_DIR) $(CARGO) test $(CONTROLLER_BENCH_PROFILE) -p ouroboros-controller --test bench_controller -- --ignored --nocapture

# Fuzz the Corefile editor with cargo-fuzz. libfuzzer needs unstable compiler flags; on a stable
# toolchain RUSTC_BOOTSTRAP=1 enables them.
fuzz-controller:
	cd ouroboros-controller/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run corefile_editor -- -max_total_time=$(CONTROLLER_FUZZ_SECONDS)
