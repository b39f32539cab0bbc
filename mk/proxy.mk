# ouroboros-proxy and ouroboros-common targets.
.PHONY: test-proxy bench-proxy fuzz-proxy

test-proxy:
	$(CARGO) test -p ouroboros-common -p ouroboros-proxy

# Loopback comparison against nginx direct and HAProxy send-proxy (needs nginx, haproxy, wrk, curl).
bench-proxy:
	bash ouroboros-proxy/bench/run.sh

# Header encoder/decoder round trip under libFuzzer (needs nightly and cargo-fuzz).
fuzz-proxy:
	cd ouroboros-proxy/fuzz && cargo +nightly fuzz run header_round_trip -- -max_total_time=$${FUZZ_SECONDS:-60}
