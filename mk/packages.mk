# Chart packages (packages/*): unit suites, snapshots, previews.
#   make test-packages        run every package's tests/*_test.yaml suites
#   make snapshots-packages   check the rendered-package snapshots (snapshots/)
#   make snapshots-review     review pending snapshot changes (cargo-insta)
#   make preview-tenant       render a tenant cluster with the ouroboros addon on
PACKAGES_TARGET_DIR ?= target
PACKAGE_DIRS := packages/system/ouroboros packages/system/coredns packages/apps/kubernetes packages/core/platform

.PHONY: test-packages snapshots-packages snapshots-review preview-tenant

test-packages: build
	$(COZY) test $(PACKAGE_DIRS)

snapshots-packages:
	CARGO_TARGET_DIR=$(PACKAGES_TARGET_DIR) $(CARGO) test -p cozy-render --test package_snapshots

snapshots-review:
	cargo insta review --workspace-root .

preview-tenant: build
	$(COZY) template tenant-demo packages/apps/kubernetes -n tenant-demo \
		--set _namespace.etcd=tenant-root \
		--set addons.ingressNginx.enabled=true \
		--set addons.ouroboros.enabled=true
