package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// W7's repository: w7Charts charts of w7Versions versions each, 20,000
// entries, each written out as a real repository writes it (description,
// keywords, maintainers, annotations) so that the index is about 25 MiB.
const (
	w7Charts   = 1000
	w7Versions = 20
	// w7Newest is the newest version of every chart, the one `*` picks.
	w7Newest = "1.0.19"
	// w7DefaultCharts is W7's N unless -n is given: the 50
	// HelmCharts on one repository.
	w7DefaultCharts = 50
)

func helmRepositoriesGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "helmrepositories"}
}

func helmChartsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "helmcharts"}
}

// runW7 is the Helm repository benchmark: one HTTP repository with a big
// index (20,000 entries, about 25 MiB) and n HelmCharts of it, each a
// different chart at version `*`. Two phases: "repository", from creating
// the HelmRepository to Ready (fetch, parse, sort, store the index), then
// "charts", from creating the HelmCharts to all of them Ready with their
// chart pulled. The cache's hits and misses over the charts phase are
// logged: one miss at most per index revision is the cache working.
func (c config) runW7(ctx context.Context, n int) (rows []row, err error) {
	if n > w7Charts {
		return nil, fmt.Errorf("W7 has %d charts: N=%d is too many", w7Charts, n)
	}
	e, err := c.setup(ctx, fmt.Sprintf("W7-n%d", n), nil)
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	repoURL, size, stop, err := serveW7Repository(n)
	if err != nil {
		return nil, err
	}
	defer stop()
	c.logf("W7 N=%d: serving an index of %d entries, %.1f MiB, at %s", n, w7Charts*w7Versions, float64(size)/(1<<20), repoURL)

	if err := e.createNamespace(ctx, fleetNamespace); err != nil {
		return nil, err
	}
	if err := e.startControllers(ctx); err != nil {
		return nil, err
	}
	repo := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "HelmRepository",
		"metadata":   map[string]any{"name": "bench", "namespace": fleetNamespace},
		"spec":       map[string]any{"interval": "1h", "url": repoURL},
	}}
	var charts []*unstructured.Unstructured
	for i := range n {
		charts = append(charts, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "source.toolkit.fluxcd.io/v1",
			"kind":       "HelmChart",
			"metadata":   map[string]any{"name": w7ChartName(i), "namespace": fleetNamespace},
			"spec": map[string]any{
				"interval":  "1h",
				"chart":     w7ChartName(i),
				"version":   "*",
				"sourceRef": map[string]any{"kind": "HelmRepository", "name": "bench"},
			},
		}})
	}
	repos, err := newTracker(ctx, e.cluster.dynamic, helmRepositoriesGVR(), fleetNamespace)
	if err != nil {
		return nil, err
	}
	defer repos.close()
	chartsTracker, err := newTracker(ctx, e.cluster.dynamic, helmChartsGVR(), fleetNamespace)
	if err != nil {
		return nil, err
	}
	defer chartsTracker.close()
	base := row{Workload: "W7", N: n}

	c.logf("W7 N=%d: repository", n)
	r := base
	r.Phase = "repository"
	r, err = measure(ctx, e.subject(), r, func() error {
		if err := e.createAll(ctx, []*unstructured.Unstructured{repo}); err != nil {
			return err
		}
		return repos.waitAll(ctx, keysOf([]*unstructured.Unstructured{repo}), readyWithArtifact, c.timeout)
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, r)

	before, err := e.scrapeControllers(ctx)
	if err != nil {
		return rows, err
	}
	c.logf("W7 N=%d: charts", n)
	ch := base
	ch.Phase = "charts"
	ch, err = measure(ctx, e.subject(), ch, func() error {
		if err := e.createAll(ctx, charts); err != nil {
			return err
		}
		return chartsTracker.waitAll(ctx, keysOf(charts), readyAt(w7Newest), c.timeout)
	})
	if err != nil {
		return rows, err
	}
	after, err := e.scrapeControllers(ctx)
	if err != nil {
		return rows, err
	}
	c.logf("W7 N=%d: index cache over the charts phase: %.0f misses, %.0f hits", n,
		after.cacheMisses-before.cacheMisses, after.cacheHits-before.cacheHits)
	return append(rows, ch), nil
}

func w7ChartName(i int) string { return fmt.Sprintf("bench-%d", i) }

// readyWithArtifact is Ready=True at the current generation with an artifact.
func readyWithArtifact(o *unstructured.Unstructured) bool {
	if s, _, _ := condition(o, "Ready"); s != "True" || !observedCurrent(o) {
		return false
	}
	rev, _, _ := unstructured.NestedString(o.Object, "status", "artifact", "revision")
	return rev != ""
}

// serveW7Repository serves W7's index on a loopback port, with real chart
// archives for the newest version of the first n charts (the ones the
// HelmCharts pick); the other entries' archives are never asked for. It
// returns the repository URL, the index size and the function that stops
// the server.
func serveW7Repository(n int) (url string, size int, stop func(), err error) {
	archives := map[string][]byte{}
	digests := map[string]string{}
	for i := range n {
		chart := helmtest.ConfigMapChart(w7ChartName(i), w7Newest)
		data, err := chart.Package()
		if err != nil {
			return "", 0, nil, fmt.Errorf("package %s: %w", chart.Filename(), err)
		}
		sum := sha256.Sum256(data)
		archives["/"+chart.Filename()] = data
		digests[w7ChartName(i)] = hex.EncodeToString(sum[:])
	}
	index := w7Index(digests)
	url, stop, err = serveRepository(index, archives)
	if err != nil {
		return "", 0, nil, err
	}
	return url, len(index), stop, nil
}

// serveRepository serves a chart repository on a loopback port: index at
// /index.yaml, and archives by path. It returns the repository URL and
// the function that stops the server.
func serveRepository(index []byte, archives map[string][]byte) (url string, stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(index) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		data, ok := archives[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// w7Index writes the repository's index.yaml: every chart, every version,
// newest last (a repository writes them in any order; the controller sorts).
// digests holds the real archives' digests; the others are random.
func w7Index(digests map[string]string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\ngenerated: \"2026-01-01T00:00:00Z\"\nentries:\n")
	description := strings.Repeat("A chart of the W7 benchmark, described at the length real charts describe themselves. ", 8)
	for i := range w7Charts {
		name := w7ChartName(i)
		fmt.Fprintf(&b, "  %s:\n", name)
		for v := range w7Versions {
			version := fmt.Sprintf("1.0.%d", v)
			digest := digests[name]
			if digest == "" || version != w7Newest {
				digest = randomHex()
			}
			fmt.Fprintf(&b, `  - apiVersion: v2
    name: %[1]s
    version: %[2]s
    appVersion: "%[2]s"
    type: application
    description: "%[3]s"
    home: https://example.com/charts/%[1]s
    icon: https://example.com/charts/%[1]s/icon.png
    keywords: [benchmark, helm, driftless, %[1]s]
    sources: [https://example.com/src/%[1]s]
    maintainers:
    - name: Bench Maintainer
      email: bench@example.com
      url: https://example.com/people/bench
    annotations:
      category: Benchmark
      licenses: Apache-2.0
      artifacthub.io/changes: "- kind: changed\n  description: version %[2]s of %[1]s"
    created: "2026-01-01T00:00:00Z"
    digest: %[4]s
    urls:
    - %[1]s-%[2]s.tgz
`, name, version, description, digest)
		}
	}
	return []byte(b.String())
}

func randomHex() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
