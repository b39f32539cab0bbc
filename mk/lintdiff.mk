# lint, diff and drift (cozy-lint, cozy-diff, cozy-drift).
#   make check        drift: vendored chart pins, digests and versions agree (part of make test)
#   make update       re-vendor every package's pinned charts (`make -C <package> update`), then check
#   make lint-packages  lint the four packages over every value set of snapshots/values
#   make bench-lint   lint --matrix over the package value sets vs one `helm template` per set
#                     (HELM=/path/to/helm or helm on PATH)
LINTDIFF_PACKAGES := packages/system/ouroboros packages/system/coredns packages/apps/kubernetes packages/core/platform
HELM ?= helm

.PHONY: check update lint-packages bench-lint

test: check

check:
	@if $(CARGO) run -q -p cozy-render -- drift --help >/dev/null 2>&1; then \
		$(CARGO) run -q -p cozy-render -- drift . ; \
	else \
		$(CARGO) test -q -p cozy-drift --test drift committed_repository_has_no_drift ; \
	fi

update:
	@for p in $(LINTDIFF_PACKAGES); do \
		if grep -q '^update:' $$p/Makefile 2>/dev/null; then $(MAKE) -C $$p update || exit 1; fi; \
	done
	$(MAKE) check

lint-packages: build
	$(COZY) lint $(LINTDIFF_PACKAGES) --matrix snapshots/values

bench-lint: build
	bash cozy-lint/bench/bench-lint.sh "$(COZY) lint" $(HELM)
