# The Kubernetes API stand-in used by the integration tests.
.PHONY: standin-test standin-serve

standin-test:
	$(CARGO) test -p kube-standin

# Serve on a free port and write a kubeconfig; SEED=file.yaml preloads objects.
STANDIN_KUBECONFIG ?= target/kube-standin.kubeconfig
standin-serve:
	$(CARGO) run -q -p kube-standin -- serve --kubeconfig-out $(STANDIN_KUBECONFIG) $(if $(SEED),--seed $(SEED))
