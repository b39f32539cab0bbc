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

# The ouroboros image (controller, proxy, cleanup). Needs podman or docker with a running engine.
IMAGE_REPOSITORY ?= ghcr.io/cozystack/ouroboros
IMAGE_TAG ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
CONTAINER_ENGINE ?= $(shell command -v podman || command -v docker)

.PHONY: image
image:
	@test -n "$(CONTAINER_ENGINE)" || { echo "make image needs podman or docker" >&2; exit 2; }
	$(CONTAINER_ENGINE) build -f Containerfile -t $(IMAGE_REPOSITORY):$(IMAGE_TAG) .
