# Targets a Kubernetes developer expects. Everything runs on the local machine; kind targets need
# Docker and kind, which the CI machines do not have.
KUBECTL ?= kubectl
IMG ?= ghcr.io/etcd-health-operator/etcd-health-operator:0.1.0
OVERLAY ?= kubernetes

.PHONY: build test lint e2e manifests run deploy undeploy docker-build kind-up kind-e2e demo controlplane node node-up node-e2e node-down bench

build: ## Compile TypeScript to dist/
	npm run build

test: ## The whole suite: unit, real etcd/Prometheus, real kube-apiserver
	npm test

lint: ## Type check, eslint and prettier
	npm run typecheck
	npm run lint

e2e: controlplane ## Only the suites on real processes
	NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects integration

manifests: ## Regenerate the CRD from src/api
	npm run manifests

controlplane: ## Build (or reuse) kube-apiserver, kubectl and etcd from the Go module proxy
	bash test/controlplane/build.sh

node: ## Build (or reuse) kubelet, scheduler, controller-manager, containerd, runc, CNI plugins, pause
	bash test/node/build.sh

node-e2e: controlplane node ## A node joins a test control plane; the operator image and overlay run on it (root)
	NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects node

# There is no persistent node: each node-e2e run starts its own (control plane, containerd, kubelet,
# network namespace) and removes it at the end. node-up builds what a run needs; node-down has
# nothing to stop.
node-up: controlplane node ## Build (or reuse) the node binaries; the node itself starts per run
	@echo "node binaries ready; make node-e2e starts a node, runs the suite and removes the node"

node-down: ## Nothing persists between runs (see node-up)
	@echo "no persistent node: each make node-e2e run removes what it started"

run: build ## Run the operator against the current kubeconfig
	node dist/src/cli/operator.js --leader-elect=false --metrics-bind-address=127.0.0.1:8080 --health-bind-address=127.0.0.1:8081

deploy: ## Apply the overlay (OVERLAY=kubernetes|openshift) to the current cluster
	$(KUBECTL) apply --server-side -k deploy/overlays/$(OVERLAY)

undeploy:
	$(KUBECTL) delete --ignore-not-found -k deploy/overlays/$(OVERLAY)

docker-build:
	docker build -t $(IMG) .

kind-up:
	kind create cluster --name etcd-health

kind-e2e: docker-build
	kind load docker-image $(IMG) --name etcd-health
	$(KUBECTL) apply --server-side -k deploy/overlays/kubernetes

demo: ## Local etcd cluster + Prometheus + kube-apiserver + the operator, with a fault injected
	npm run demo

bench: ## Reconcile latency, throughput and API writes at 1, 100 and 1000 CRs
	npm run bench
