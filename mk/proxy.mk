# ouroboros-proxy and ouroboros-common targets.
.PHONY: test-proxy bench-proxy fuzz-proxy check-proxy-portable

test-proxy:
	$(CARGO) test -p ouroboros-common -p ouroboros-proxy

# Loopback comparison against nginx direct and HAProxy send-proxy (needs nginx, haproxy, wrk, curl).
bench-proxy:
	bash ouroboros-proxy/bench/run.sh

# Header encoder/decoder round trip under libFuzzer (needs nightly and cargo-fuzz).
fuzz-proxy:
	cd ouroboros-proxy/fuzz && cargo +nightly fuzz run header_round_trip -- -max_total_time=$${FUZZ_SECONDS:-60}

# The non-Linux build (async relay without splice or the engine) under clippy, for macOS
# and FreeBSD; needs `rustup target add x86_64-apple-darwin x86_64-unknown-freebsd`.
check-proxy-portable:
	for target in x86_64-apple-darwin x86_64-unknown-freebsd; do \
		$(CARGO) clippy -p ouroboros-common -p ouroboros-proxy --all-targets --target $$target -- -D warnings || exit 1; \
	done
