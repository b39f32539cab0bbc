# Helm function library (cozy-funcs).
#   make conformance-update   re-render every conformance case with helm (HELM=/path/to/helm
#                             or helm on PATH) and rewrite the stored expected outputs
#   make conformance          compare our output with the stored helm output

.PHONY: conformance conformance-update

conformance:
	$(CARGO) test -p cozy-funcs --test conformance

conformance-update:
	$(CARGO) test -p cozy-funcs --test conformance -- --ignored --nocapture update_expected_outputs_from_helm
