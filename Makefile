# Driftless — the entry points the README, CI and every check use.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/driftless/driftless/internal/version.Version=$(VERSION)
DEMO_DIR ?= $(CURDIR)/.cache/demo
GO_TEST_FLAGS ?= -count=1 -timeout 25m

LOCALCLUSTER_SRC := $(shell find localcluster -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.yaml' -o -name '*.sh' \) -not -name '*_test.go' 2>/dev/null)

.PHONY: build demo test generate fuzz clean

## build: bin/flux, bin/driftless-controller and bin/localcluster
build: bin/localcluster
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/flux ./cmd/driftless-controller

## bin/localcluster: rebuilt only when its sources change (the harness relies on that)
bin/localcluster: $(LOCALCLUSTER_SRC)
	@mkdir -p bin
	localcluster/build.sh $(CURDIR)/bin/localcluster

## demo: a local Kubernetes control plane with every Driftless CRD installed (Ctrl-C stops it)
demo: bin/localcluster
	bin/localcluster --data-dir $(DEMO_DIR) --nodes 2 --apply config/crd/bases

## test: every test of both modules, against real local clusters
test: bin/localcluster
	go test $(GO_TEST_FLAGS) ./...
	cd localcluster && go test $(GO_TEST_FLAGS) ./...

## fuzz: run every fuzz target for FUZZTIME each (their seed corpora already run in make test)
FUZZTIME ?= 30s
FUZZ_TARGETS := envsubst:FuzzSubstitute artifact:FuzzParseRevision artifact:FuzzUntar \
	signature:FuzzVerifySSH kustomize:FuzzResolvePath ignore:FuzzMatch
fuzz:
	for t in $(FUZZ_TARGETS); do \
		go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./internal/$${t%%:*} || exit 1; \
	done

## generate: deepcopy functions and CRD manifests from api/
generate:
	hack/generate.sh

clean:
	rm -rf bin .cache
