package main

import (
	"bytes"
	"context"
	"fmt"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"os"
	"path/filepath"
	"strings"

	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/ignore"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// ociRepository is where W8's one artifact is pushed, under the tag latest.
const ociRepository = "bench/fleet"

func ociRepositoriesGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "ocirepositories"}
}

// runW8 is Flux's OCI benchmark: one artifact in a local registry (the real
// distribution registry, bin/registry), and n OCIRepositories of it, each
// with a Kustomization of W1's path. Two phases: "sources", from creating
// the OCIRepositories to all of them Ready at the artifact's digest, then
// "install", from creating the Kustomizations to all of them Ready.
func (c config) runW8(ctx context.Context, n int) (rows []row, err error) {
	e, err := c.setup(ctx, fmt.Sprintf("W8-n%d", n), nil)
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	reg, err := ocitest.New(ocitest.Options{})
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	defer reg.Close()
	digest, err := pushFleet(ctx, e.dir, reg.Host)
	if err != nil {
		return nil, err
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	c.logf("W8 N=%d: pushed %s/%s:latest@%s", n, reg.Host, ociRepository, digest)

	if err := e.createNamespace(ctx, fleetNamespace); err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, n); err != nil {
		return nil, err
	}
	if err := e.startControllers(ctx); err != nil {
		return nil, err
	}
	var sources, kss []*unstructured.Unstructured
	for i := range n {
		sources = append(sources, ociRepositoryObject(i, "oci://"+reg.Host+"/"+ociRepository))
		ks := kustomization(i, w1Path, -1, "1m")
		_ = unstructured.SetNestedStringMap(ks.Object, map[string]string{"kind": "OCIRepository", "name": ociSourceName(i)}, "spec", "sourceRef")
		kss = append(kss, ks)
	}
	repos, err := newTracker(ctx, e.cluster.dynamic, ociRepositoriesGVR(), fleetNamespace)
	if err != nil {
		return nil, err
	}
	defer repos.close()
	if e.ks, err = newTracker(ctx, e.cluster.dynamic, kustomizationsGVR(), fleetNamespace); err != nil {
		return nil, err
	}
	base := row{Workload: "W8", N: n, Kustomizations: n, Objects: n * w1Objects}

	c.logf("W8 N=%d: sources", n)
	src := base
	src.Phase, src.Objects = "sources", 0
	src, err = measure(ctx, e.subject(), src, func() error {
		if err := e.createAll(ctx, sources); err != nil {
			return err
		}
		return repos.waitAll(ctx, keysOf(sources), readyAt(hex), c.timeout)
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, src)

	c.logf("W8 N=%d: install", n)
	install := base
	install.Phase = "install"
	install, err = measure(ctx, e.subject(), install, func() error {
		if err := e.createAll(ctx, kss); err != nil {
			return err
		}
		return e.ks.waitAll(ctx, keysOf(kss), readyAt(hex), c.timeout)
	})
	if err != nil {
		return rows, err
	}
	return append(rows, install), nil
}

func ociSourceName(i int) string { return fmt.Sprintf("oci-%d", i) }

// ociRepositoryObject is W8's OCIRepository i: the artifact at latest, over
// plain HTTP from the loopback registry.
func ociRepositoryObject(i int, url string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "OCIRepository",
		"metadata":   map[string]any{"name": ociSourceName(i), "namespace": fleetNamespace},
		"spec": map[string]any{
			"interval": "1h",
			"url":      url,
			"ref":      map[string]any{"tag": "latest"},
			"insecure": true,
		},
	}}
}

// pushFleet pushes W1's files as a Flux artifact, packed as `flux push
// artifact` packs a directory, and returns its digest.
func pushFleet(ctx context.Context, dir, host string) (string, error) {
	tree := filepath.Join(dir, "oci-fleet")
	for name, content := range w1Files(1) {
		p := filepath.Join(tree, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	rules, err := ignore.Load(tree, nil)
	if err != nil {
		return "", err
	}
	var layer bytes.Buffer
	if err := artifact.WriteArchive(&layer, tree, rules); err != nil {
		return "", err
	}
	repo, err := oci.ParseURL("oci://" + host + "/" + ociRepository)
	if err != nil {
		return "", err
	}
	client := oci.NewClient(oci.Options{Insecure: true})
	digest, err := client.Push(ctx, repo, "latest", layer.Bytes(), oci.PushOptions{
		Source: "https://github.com/driftless/bench", Revision: "main@sha1:" + strings.Repeat("0", 40), Reproducible: true,
	})
	if err != nil {
		return "", fmt.Errorf("push the fleet artifact: %w", err)
	}
	return digest, nil
}
