# cozy-values: regenerate the Helm-derived expected data (needs helm and jq; tests only read it).
HELM ?= helm

.PHONY: values-fixtures test-values
values-fixtures:
	@command -v $(HELM) >/dev/null || { echo "values-fixtures needs helm (set HELM=/path/to/helm)" >&2; exit 2; }
	cozy-values/tests/fixtures/set/generate.sh $(HELM)
	cozy-values/tests/fixtures/coalesce/generate.sh $(HELM)
	cozy-values/tests/fixtures/yaml/generate.sh $(HELM)

test-values:
	$(CARGO) test -p cozy-values

# The YAML reader and the --set parsers under libFuzzer (needs nightly and cargo-fuzz).
.PHONY: fuzz-values
fuzz-values:
	cd cozy-values/fuzz && cargo +nightly fuzz run yaml -- -max_total_time=$${FUZZ_SECONDS:-60}
	cd cozy-values/fuzz && cargo +nightly fuzz run set -- -max_total_time=$${FUZZ_SECONDS:-60}
