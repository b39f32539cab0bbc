# Top-level entry points. Component targets live in mk/*.mk.
CARGO ?= cargo
COZY  ?= target/release/cozy-render

.PHONY: all build render test check

all: build

build:
	$(CARGO) build --release --workspace --bins

# Render the bundled platform package with the PROXY-protocol switch on.
render: build
	$(COZY) template cozystack packages/core/platform -n cozy-system --set publishing.proxyProtocol=true --set bundles.system.enabled=true

# Every test: unit, integration, package suites, snapshots, drift.
test:
	$(CARGO) test --workspace

-include mk/*.mk
