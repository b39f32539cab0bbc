# cozy-render test (helm-unittest-compatible runner): conformance suite and benchmark.
.PHONY: test-unittest bench-test

# The runner's own conformance suite (fixture charts + suites with expected outcomes).
test-unittest:
	$(CARGO) test -p cozy-unittest

# One `cozy-render test packages/` process vs one `helm template` process per test job.
bench-test:
	$(CARGO) build --release -p cozy-render
	COZY=$(COZY) HELM=$${HELM:-helm} cozy-unittest/bench/bench-test.sh packages
