# Targets a Kubernetes developer expects. Everything runs on the local machine; kind targets need
# Docker and kind, which the CI machines do not have.
KUBECTL ?= kubectl
IMG ?= ghcr.io/etcd-health-operator/etcd-health-operator:0.1.0
OVERLAY ?= kubernetes

.PHONY: build test lint e2e manifests release dashboards run deploy undeploy docker-build kind-up kind-e2e demo controlplane node node-up node-e2e node-down node-status bench bundle bundle-validate

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

dashboards: ## Regenerate deploy/dashboards/ (Grafana and OpenShift console) from hack/dashboards.ts
	npx tsx hack/dashboards-write.ts

bundle: controlplane ## Regenerate the OLM bundle (bundle/, bundle.Dockerfile) from crds/, deploy/ and hack/release/bundle/
	npx tsx hack/release/bundle.ts

bundle-validate: ## The operator-framework validators (default, OperatorHub, good practices) on bundle/
	"$$(bash test/olm/build.sh)/olm-validate" bundle

# The image is package.json's version unless IMG is given on the command line (the check in
# test/deploy/release.test.ts expects the former).
RELEASE_IMAGE = $(if $(filter command line,$(origin IMG)),--image $(IMG))
release: bundle ## Regenerate every release artifact from deploy/: the bundle, dist/install.yaml, charts/etcd-health-operator
	npx tsx hack/release/install.ts $(RELEASE_IMAGE)
	npx tsx hack/release/chart.ts $(RELEASE_IMAGE)

controlplane: ## Build (or reuse) kube-apiserver, kubectl and etcd from the Go module proxy
	bash test/controlplane/build.sh

node: ## Build (or reuse) kubelet, scheduler, controller-manager, containerd, runc, CNI plugins, pause
	bash test/node/build.sh

node-e2e: controlplane node ## A node joins a test control plane; the operator image and overlay run on it (root)
	NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects node

# node-e2e starts its own node per run; node-up keeps one up for people (a holder process, state in
# $${XDG_RUNTIME_DIR:-/tmp}/etcd-health-node) until node-down stops it and it removes everything.
node-up: controlplane node ## Start a control plane and a node that stay up; prints KUBECONFIG (root)
	npx tsx hack/node.ts up

node-down: ## Stop the node-up node: its processes, mounts, network namespace, cgroups, temp dirs
	npx tsx hack/node.ts down

node-status: ## Whether a node-up node runs, and how to reach it
	npx tsx hack/node.ts status

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
