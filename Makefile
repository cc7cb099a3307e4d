# Driftless — the entry points the README, CI and every check use.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# -s -w drop the symbol table and DWARF, as Flux's release builds do: a third
# of the size (flux: 133 MB to 95 MB); panics and profiles keep their stacks.
LDFLAGS := -s -w -X github.com/driftless/driftless/internal/version.Version=$(VERSION)
DEMO_DIR ?= $(CURDIR)/.cache/demo
GO_TEST_FLAGS ?= -count=1 -timeout 25m

LOCALCLUSTER_SRC := $(shell find localcluster -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.yaml' -o -name '*.sh' \) -not -name '*_test.go' 2>/dev/null)

.PHONY: build demo cluster image bench reliability test generate fuzz screenshots clean bin/registry bin/crane bin/cosign bin/helm

## build: bin/flux, bin/driftless-controller, bin/driftless-demo and bin/localcluster
build: bin/localcluster
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/flux ./cmd/driftless-controller ./cmd/driftless-demo

## bin/localcluster: rebuilt only when its sources change (the harness relies on that)
bin/localcluster: $(LOCALCLUSTER_SRC)
	@mkdir -p bin
	localcluster/build.sh $(CURDIR)/bin/localcluster

## bin/registry, bin/crane, bin/cosign, bin/helm: the real OCI registry, crane, cosign and the helm CLI
## the tests cross-check against (internal/testkit/ocitest and helmtest build them on demand). Each is
## `go install pkg@version` in its own module graph, outside go.mod; the recipe does nothing while the
## binary already has that version.
OCI_TOOL_registry := github.com/distribution/distribution/v3/cmd/registry@v3.1.2
OCI_TOOL_crane := github.com/google/go-containerregistry/cmd/crane@v0.22.1
OCI_TOOL_cosign := github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3
OCI_TOOL_helm := helm.sh/helm/v4/cmd/helm@v4.2.4
bin/registry bin/crane bin/cosign bin/helm:
	@mkdir -p bin
	@tool='$(OCI_TOOL_$(notdir $@))'; pkg="$${tool%@*}"; ver="$${tool#*@}"; \
	if go version -m $@ 2>/dev/null | awk -v pkg="$$pkg" -v ver="$$ver" \
		'$$1=="path" && $$2==pkg {p=1} $$1=="mod" && $$3==ver {v=1} END {exit !(p && v)}'; then exit 0; fi; \
	echo "go install $$tool"; \
	cd / && GOWORK=off GOBIN=$(CURDIR)/bin go install "$$tool"

## bin/versitygw: the versitygw S3 gateway the Bucket tests run against (internal/testkit/s3test
## builds it on demand). `go install` in its own module graph, outside go.mod; a file target: built
## once, rebuilt only when missing (delete it after changing VERSITYGW_PKG).
VERSITYGW_PKG := github.com/versity/versitygw/cmd/versitygw@v1.8.0
bin/versitygw:
	@mkdir -p bin
	@echo "go install $(VERSITYGW_PKG)"
	@cd / && GOWORK=off GOBIN=$(CURDIR)/bin go install $(VERSITYGW_PKG)

## demo: the local GitOps loop: cluster, Git server with examples/fleet, controller, bootstrap (Ctrl-C stops it)
demo: build
	bin/driftless-demo --data-dir $(DEMO_DIR) --nodes 2 $(ARGS)

## cluster: only the local Kubernetes control plane with the CRDs (Ctrl-C stops it)
cluster: bin/localcluster
	bin/localcluster --data-dir $(CURDIR)/.cache/cluster --nodes 2 --apply config/crd/bases

## image: bin/driftless-controller.oci.tar, the controller image as a docker-archive
## (docker load -i / crane push), built without a Docker daemon
IMAGE ?= ghcr.io/driftless/driftless-controller:$(VERSION)
image:
	@mkdir -p bin/linux
	CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags '$(LDFLAGS)' -o bin/linux/driftless-controller ./cmd/driftless-controller
	go run ./hack/image --binary bin/linux/driftless-controller --tag $(IMAGE) --version=$(VERSION) \
		--revision=$(shell git rev-parse HEAD 2>/dev/null) --output bin/driftless-controller.oci.tar

## bench: the benchmark suite; pick workloads and sizes with ARGS="-workload W0,W1 -n 100"
bench: bin/localcluster
	go run ./bench $(ARGS)

## test: every test of both modules, against real local clusters
test: bin/localcluster
	go test $(GO_TEST_FLAGS) ./...
	cd localcluster && go test $(GO_TEST_FLAGS) ./...

## fuzz: run every fuzz target for FUZZTIME each (their seed corpora already run in make test)
FUZZTIME ?= 30s
FUZZ_TARGETS := engine/envsubst:FuzzSubstitute engine/artifact:FuzzParseRevision engine/artifact:FuzzUntar \
	engine/signature:FuzzVerifySSH engine/kustomize:FuzzResolvePath engine/ignore:FuzzMatch engine/sops:FuzzDecrypt \
	engine/chartrepo:FuzzParseIndex engine/chart:FuzzLoadArchive engine/chart:FuzzMergeValues engine/helmvalues:FuzzCompose \
	engine/notifier:FuzzChatPayloads engine/notifier:FuzzIncidentPayloads engine/notifier:FuzzCommentBody \
	engine/notifier:FuzzRevisionSHA engine/notifier:FuzzParseRepositoryURL engine/notifier:FuzzNATSSubject \
	engine/notifier:FuzzAzureEventHubConnectionString engine/webhook:FuzzWebhookChecks \
	controller/notification/dispatch:FuzzMatch controller/notification/ingest:FuzzIngestEvent \
	engine/imagepolicy:FuzzPolicies engine/imagepolicy:FuzzParseVersion engine/imageupdate:FuzzSetters \
	engine/commitmessage:FuzzMessageTemplate
fuzz:
	for t in $(FUZZ_TARGETS); do \
		go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./internal/$${t%%:*} || exit 1; \
	done

## screenshots: docs/images/ui-overview.png, ui-kustomization.png and ui-graph.png, taken of the demo
## fleet in chromium-headless-shell by the demo's end-to-end test
screenshots: bin/localcluster
	DRIFTLESS_SCREENSHOTS_DIR=$(CURDIR)/docs/images go test -count=1 -timeout 20m -run '^TestDemoInterrupt$$' -v ./test/e2e

## reliability: the fault and bad-input suite; regenerates docs/reliability.md
reliability: bin/localcluster
	go test ./test/reliability -count=1 -v -timeout 30m -update-report

## generate: deepcopy functions and CRD manifests from api/
generate:
	hack/generate.sh

clean:
	rm -rf bin .cache
