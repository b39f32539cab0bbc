# Top-level entry points. Component targets live in mk/*.mk.
CARGO ?= cargo
COZY  ?= target/release/cozy-render

.PHONY: all build render test check

all: build

build:
	$(CARGO) build --release --workspace --bins

$(COZY): $(shell find cozy-render cozy-engine cozy-values cozy-funcs cozy-unittest cozy-lint cozy-diff cozy-drift -name '*.rs' -o -name Cargo.toml 2>/dev/null)
	$(CARGO) build --release -p cozy-render

# Render the bundled platform package with the PROXY-protocol switch on.
render: $(COZY)
	$(COZY) template cozystack packages/core/platform -n cozy-system --set publishing.proxyProtocol=true --set bundles.system.enabled=true

# The debug build of the CLI, for test steps (cargo test builds the same profile).
COZY_RUN ?= $(CARGO) run -q -p cozy-render --

# Every test: unit, integration (real nginx), conformance tables, package snapshots, the
# package suites (helm-unittest format) and drift.
test:
	$(CARGO) test --workspace
	$(COZY_RUN) test packages --ci

# The whole workspace, every target, under clippy; any lint fails. Not part of `make test`:
# a newer toolchain may add lints, and the tests should not depend on that.
.PHONY: clippy doc
clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The workspace's API documentation (target/doc), with rustdoc's warnings as errors.
doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

-include mk/*.mk

# The ouroboros image (controller, proxy, cleanup). Needs podman or docker with a running engine.
IMAGE_REPOSITORY ?= ghcr.io/cozystack/ouroboros
IMAGE_TAG ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
CONTAINER_ENGINE ?= $(shell command -v podman || command -v docker)

.PHONY: image
image:
	@test -n "$(CONTAINER_ENGINE)" || { echo "make image needs podman or docker" >&2; exit 2; }
	$(CONTAINER_ENGINE) build -f Containerfile -t $(IMAGE_REPOSITORY):$(IMAGE_TAG) .

# cozy-render linked statically against glibc, position-dependent: the form a CLI like this
# ships in. The dynamic loader's work (mapping libc, libm and libgcc_s, resolving symbols) is
# gone from every start, a tenth of a small chart's wall time. Needs glibc's static archive
# (Debian: libc6-dev). Linux x86_64 only; elsewhere use $(COZY).
COZY_STATIC_TARGET ?= x86_64-unknown-linux-gnu
COZY_STATIC ?= target/$(COZY_STATIC_TARGET)/release/cozy-render
.PHONY: cozy-render-static
cozy-render-static:
	RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
		$(CARGO) build --release -p cozy-render --target $(COZY_STATIC_TARGET)

# `cozy-render template` vs `helm template` on the example chart (needs helm and hyperfine),
# with the statically linked release build.
.PHONY: bench-render
bench-render: cozy-render-static
	COZY=$(COZY_STATIC) bench/render.sh
