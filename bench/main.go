// Command bench measures Driftless against the local control plane: for
// each workload and size it starts a fresh local cluster, a Git server and
// driftless-controller, runs the workload and prints one table row per
// phase (or one JSON object per row with -json).
//
//	go run ./bench -workload W0,W1 -n 100,500
//
// Workloads: W0 the same objects as W1 applied directly (the
// floor), W1 Flux's benchmark (N Kustomizations on one source), W2 one
// Kustomization of many objects, W3 a dependsOn chain, W4 change
// propagation to Kustomizations already Ready, W1A W1 with an info Alert on
// every Kustomization to a webhook in the benchmark (only when named; its
// rows account for every notification), W6 a new tag of N images carried to
// the cluster by image automation (only when named; N 1, 10 and 100 unless
// -n), W7 Helm sources (one HTTP
// repository with a 25 MiB index, N HelmCharts of it, 50 by default), W8
// Flux's OCI shape (one OCIRepository per Kustomization, one artifact in a
// local registry), W9 the Bucket source at scale (only when named: N small
// objects in one S3 bucket, 20 000 unless -n; its first fetch, a no-change
// poll and the refusal past --artifact-max-files), W5 Flux's Helm benchmark (N HelmReleases of one chart
// in an OCI registry, or an HTTP repository with -w5-source http; install,
// then upgrade), UI the web UI over W1's world (only when named: render,
// browser load, stream latency, the cost of open pages).
//
// With -flux DIR, every workload but W0 runs a second time in the same invocation, on a
// fresh cluster, with Flux's own source-, kustomize- and helm-controller
// executables from DIR (built outside the project) as separate processes;
// their rows are labelled flux, Driftless's driftless.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// row is one phase of one run.
type row struct {
	Workload string `json:"workload"`
	// Controller is whose controllers the row measures: driftless,
	// flux (-flux: Flux's controllers, each a process of its own, summed),
	// or bench (W0: the bench's own applier).
	Controller          string  `json:"controller"`
	N                   int     `json:"n"`
	Phase               string  `json:"phase"`
	WallSeconds         float64 `json:"wall_seconds"`
	PerSecond           float64 `json:"per_second"`
	ObjectsPerSecond    float64 `json:"objects_per_second"`
	PeakRSSMiB          float64 `json:"peak_rss_mib"`
	CPUSeconds          float64 `json:"cpu_seconds"`
	APIRequests         float64 `json:"api_requests"`
	APIServerCPUSeconds float64 `json:"apiserver_cpu_seconds"`
	// ClusterRequests counts the requests kube-apiserver served during the
	// phase, from every client (controllers, the cluster's own, the
	// benchmark), by request in ClusterRequestsBy.
	ClusterRequests   float64            `json:"cluster_requests"`
	ClusterRequestsBy map[string]float64 `json:"cluster_requests_by,omitempty"`
	// ReconcileSeconds sums the Kustomizations' reconcile durations
	// (gotk_reconcile_duration_seconds): for W3, the chain's own work.
	ReconcileSeconds float64 `json:"reconcile_seconds"`
	Kustomizations   int     `json:"kustomizations"`
	Objects          int     `json:"objects"`
	// Processes breaks CPU and peak RSS down by process when the
	// controllers are more than one (Flux's): CPUSeconds and PeakRSSMiB
	// are their sums.
	Processes map[string]processCost `json:"processes,omitempty"`
	// Notifications are W1A's accounts of the events its Alert sends.
	Notifications *notificationFigures `json:"notifications,omitempty"`
	// Note is what else the workload reports about the phase (W6: commits
	// made, and when each hop was done).
	Note string `json:"note,omitempty"`
}

// processCost is one controller process's share of a row.
type processCost struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

// flags are the command line.
type flags struct {
	workloads  []string
	sizes      []int
	sizesSet   bool
	w2Objects  int
	w3Chain    int
	w4N        int
	concurrent int
	// concurrentSet is -concurrent given: otherwise W5 runs at Flux's
	// helm-controller default, w5Concurrent.
	concurrentSet bool
	w5Source      string
	crds          int
	ctrlArgs      string
	nodes         int
	timeout       time.Duration
	jsonOut       bool
	requests      bool
	keep          bool
	heapProfiles  bool
	w6Tags        int
	dataDir       string
	fluxDir       string
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workloads := fs.String("workload", "W0,W1,W2,W3,W4", "workloads to run, comma-separated (W1A, W1 with an Alert, W5 and W7, the Helm ones, W6, image automation, W8, the OCI one, W9, the Bucket one, and UI, the web UI, only when named)")
	sizes := fs.String("n", "100,500", "sizes for W0 and W1; when given, also for W3, W4, W6, W7 and W9 (W9: 20000 objects unless given) (comma-separated)")
	fs.IntVar(&f.w2Objects, "w2-objects", 2000, "objects in W2's one Kustomization")
	fs.IntVar(&f.w3Chain, "w3-chain", 50, "length of W3's dependsOn chain, unless -n is given")
	fs.IntVar(&f.w4N, "w4-n", 100, "Kustomizations of W4, unless -n is given")
	fs.IntVar(&f.concurrent, "concurrent", 20, fmt.Sprintf("driftless-controller --concurrent (W5: %d unless given, as Flux's run)", w5Concurrent))
	fs.IntVar(&f.crds, "crds", 0, "W5: CustomResourceDefinitions to create first, each of its own API group (Flux's runs: 50, 250, 500)")
	fs.StringVar(&f.w5Source, "w5-source", w5SourceOCI, "W5's chart repository: oci (a HelmRepository of type oci on a local registry) or http (an index served over HTTP)")
	fs.StringVar(&f.ctrlArgs, "controller-args", "", "more driftless-controller flags, space-separated (e.g. \"--kube-api-qps=200\")")
	fs.IntVar(&f.nodes, "nodes", 2, "KWOK nodes of the local cluster")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "longest wait for one phase to be all Ready")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object per row instead of the table")
	fs.BoolVar(&f.requests, "requests", false, "after the table, list the requests kube-apiserver served in each phase, per Kustomization")
	fs.BoolVar(&f.keep, "keep", false, "keep each run's data directory (cluster, logs, repository)")
	fs.IntVar(&f.w6Tags, "w6-tags", 1, "W6: tags in each ImageRepository before the new one (the issue's memory figure: -n 100 -w6-tags 10000)")
	fs.BoolVar(&f.heapProfiles, "heap-profiles", false, "W1, W1A, W4, W6: write driftless-controller's heap profile after each phase to heap-<phase>.pb.gz in the run's directory, and keep it")
	fs.StringVar(&f.dataDir, "data-dir", "", "where runs keep their data (default REPO/.cache/bench)")
	fs.StringVar(&f.fluxDir, "flux", "", "directory of Flux's source-controller, kustomize-controller and helm-controller executables, built outside the project: "+
		"W1 to W4 and W8 (source, kustomize), W5 (source, helm) and W7 (source) then run again on a fresh cluster with Flux's controllers, rows labelled flux")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fs.Visit(func(fl *flag.Flag) {
		f.sizesSet = f.sizesSet || fl.Name == "n"
		f.concurrentSet = f.concurrentSet || fl.Name == "concurrent"
	})
	if f.w5Source != w5SourceOCI && f.w5Source != w5SourceHTTP {
		return f, fmt.Errorf("-w5-source: %q is neither %s nor %s", f.w5Source, w5SourceOCI, w5SourceHTTP)
	}
	for w := range strings.SplitSeq(*workloads, ",") {
		w = strings.ToUpper(strings.TrimSpace(w))
		if !slices.Contains([]string{"W0", "W1", "W1A", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "UI"}, w) {
			return f, fmt.Errorf("-workload: unknown workload %q (want W0 to W9, W1A or UI)", w)
		}
		if !slices.Contains(f.workloads, w) {
			f.workloads = append(f.workloads, w)
		}
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return f, fmt.Errorf("-n: %q is not a positive size", s)
		}
		f.sizes = append(f.sizes, n)
	}
	if f.crds < 0 {
		return f, fmt.Errorf("-crds: %d is negative", f.crds)
	}
	if f.fluxDir != "" {
		dir, err := resolveFlux(f.fluxDir, f.workloads)
		if err != nil {
			return f, err
		}
		f.fluxDir = dir
	}
	if f.concurrent < 1 || f.nodes < 1 || f.w2Objects < 1 || f.w3Chain < 1 || f.w4N < 1 {
		return f, errors.New("-concurrent, -nodes, -w2-objects, -w3-chain and -w4-n must be positive")
	}
	return f, nil
}

// sizesOf is the sizes workload w runs at.
func (f flags) sizesOf(w string) []int {
	switch {
	case w == "W2":
		return []int{f.w2Objects}
	case w == "W3" && !f.sizesSet:
		return []int{f.w3Chain}
	case w == "W4" && !f.sizesSet:
		return []int{f.w4N}
	case w == "W7" && !f.sizesSet:
		return []int{w7DefaultCharts}
	case w == "W9" && !f.sizesSet:
		return []int{w9DefaultObjects}
	case w == "W6" && !f.sizesSet:
		return []int{1, 10, 100}
	}
	return f.sizes
}

// concurrentOf is driftless-controller's --concurrent for workload w.
func (f flags) concurrentOf(w string) int {
	if w == "W5" && !f.concurrentSet {
		return w5Concurrent
	}
	return f.concurrent
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := testcluster.RepoRoot()
	if err != nil {
		return err
	}
	if f.dataDir == "" {
		f.dataDir = filepath.Join(root, ".cache", "bench")
	}
	if f.fluxDir != "" {
		if err := checkOutsideRepo(f.fluxDir, root); err != nil {
			return err
		}
	}
	c := config{root: root, dataDir: f.dataDir, keep: f.keep || f.heapProfiles, heapProfiles: f.heapProfiles, w6Tags: f.w6Tags, w5Source: f.w5Source, crds: f.crds, ctrlArgs: strings.Fields(f.ctrlArgs), nodes: f.nodes, timeout: f.timeout, progress: stderr,
		fluxDir: f.fluxDir}
	if f.fluxDir != "" && f.ctrlArgs != "" {
		c.logf("-controller-args are driftless-controller's: Flux's controllers run without them")
	}
	c.logf("building driftless-controller and localcluster")
	if c.controllerBin, c.clusterBin, err = buildBinaries(ctx, root, filepath.Join(f.dataDir, "bin")); err != nil {
		return err
	}
	var rows []row
	var failures []error
	for _, w := range f.workloads {
		wc := c
		wc.concurrent = f.concurrentOf(w)
		wc.workload = w
		for _, n := range f.sizesOf(w) {
			// With -flux, Flux's run follows Driftless's, each on a
			// fresh cluster of its own.
			for _, variant := range variantsOf(f.fluxDir, w) {
				vc := wc
				vc.variant = variant
				got, err := vc.runWorkload(ctx, w, n)
				got = labelRows(got, w, variant)
				for _, r := range got {
					if f.jsonOut {
						if err := json.NewEncoder(stdout).Encode(r); err != nil {
							return err
						}
					}
				}
				rows = append(rows, got...)
				if err != nil {
					c.logf("%s N=%d (%s) failed (the reasons follow the table)", w, n, variant)
					failures = append(failures, fmt.Errorf("%s N=%d (%s): %w", w, n, variant, err))
				}
				if ctx.Err() != nil {
					return errors.Join(append(failures, ctx.Err())...)
				}
			}
		}
	}
	if !f.jsonOut && len(rows) > 0 {
		fmt.Fprint(stdout, formatTable(rows))
		if f.requests {
			fmt.Fprint(stdout, formatRequests(rows))
		}
	}
	return errors.Join(failures...)
}

func (c config) runWorkload(ctx context.Context, w string, n int) ([]row, error) {
	switch w {
	case "W0":
		return c.runW0(ctx, n)
	case "W1", "W1A", "W4":
		return c.runW1(ctx, w, n)
	case "W6":
		return c.runW6(ctx, n)
	case "W2":
		return c.runW2(ctx, n)
	case "W3":
		return c.runW3(ctx, n)
	case "W5":
		return c.runW5(ctx, n, c.w5Source)
	case "W7":
		return c.runW7(ctx, n)
	case "W8":
		return c.runW8(ctx, n)
	case "W9":
		return c.runW9(ctx, n)
	case "UI":
		return c.runUI(ctx, n)
	}
	return nil, fmt.Errorf("unknown workload %s", w)
}

// formatTable aligns rows under a header, with a note on what W0 measures.
func formatTable(rows []row) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WORKLOAD\tCONTROLLER\tN\tPHASE\tWALL s\tKS/s\tOBJECTS/s\tPEAK RSS MiB\tCPU s\tAPI REQUESTS\tAPISERVER CPU s\tCLUSTER REQUESTS\t")
	w0, w2, w5, w9 := false, false, false, false
	var notes, flux []string
	for _, r := range rows {
		if r.Controller == labelFlux {
			flux = append(flux, fmt.Sprintf("  %s N=%d %s: %s\n", r.Workload, r.N, r.Phase, formatProcesses(r.Processes)))
		}
		w0 = w0 || r.Workload == "W0"
		w2 = w2 || r.Workload == "W2"
		w5 = w5 || strings.HasPrefix(r.Workload, "W5")
		w9 = w9 || r.Workload == "W9"
		if r.Workload == "W3" && r.ReconcileSeconds > 0 {
			who := ""
			if r.Controller != "" {
				who = " (" + r.Controller + ")"
			}
			notes = append(notes, fmt.Sprintf("W3 N=%d%s: wall %.1f s, the chain's own reconcile time %.1f s: %.2f×\n",
				r.N, who, r.WallSeconds, r.ReconcileSeconds, r.WallSeconds/r.ReconcileSeconds))
		}
		perSecond := fmt.Sprintf("%.1f", r.PerSecond)
		if r.Workload == "W2" || r.Workload == "W9" {
			perSecond = "–" // one Kustomization or none: objects per second is the figure
		}
		controller := cmp.Or(r.Controller, "-")
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.1f\t%s\t%.1f\t%.0f\t%.1f\t%.0f\t%.1f\t%.0f\t\n",
			r.Workload, controller, r.N, r.Phase, r.WallSeconds, perSecond, r.ObjectsPerSecond,
			r.PeakRSSMiB, r.CPUSeconds, r.APIRequests, r.APIServerCPUSeconds, r.ClusterRequests)
	}
	_ = tw.Flush()
	if w0 {
		b.WriteString("W0: RSS, CPU and API requests are the bench process's own (its applier and its watches); KS/s counts each namespace's 4 objects as one Kustomization.\n")
	}
	if w2 {
		b.WriteString("W2: N is the number of objects in its one Kustomization.\n")
	}
	if w5 {
		b.WriteString("W5: KS/s counts HelmReleases: releases per second.\n")
	}
	if w9 {
		b.WriteString("W9: N is the number of objects in the bucket; PEAK RSS MiB is the controller's peak during the phase (reset before it), OBJECTS/s objects listed per second.\n")
	}
	for _, r := range rows {
		if r.Notifications != nil {
			notes = append(notes, fmt.Sprintf("%s N=%d %s: %s\n", r.Workload, r.N, r.Phase, r.Notifications))
		}
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s N=%d %s: %s\n", r.Workload, r.N, r.Phase, r.Note))
		}
	}
	for _, n := range notes {
		b.WriteString(n)
	}
	if len(flux) > 0 {
		b.WriteString("flux: Flux's controllers from -flux, each a process of its own, on a fresh cluster of the same machine after Driftless's run " +
			"(" + fluxWorkloads + "). " +
			"CPU s and API REQUESTS are sums over those processes; PEAK RSS MiB is the sum of each process's own peak. " +
			"driftless is one process running every controller. By process (CPU s, peak RSS MiB):\n")
		for _, l := range flux {
			b.WriteString(l)
		}
	}
	return b.String()
}

// formatProcesses lists a row's processes by name: CPU seconds and peak RSS.
func formatProcesses(ps map[string]processCost) string {
	names := slices.Sorted(maps.Keys(ps))
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f s, %.0f MiB", name, ps[name].CPUSeconds, ps[name].PeakRSSMiB))
	}
	return strings.Join(parts, "; ")
}

// formatRequests lists, for each row, the requests kube-apiserver served
// during the phase by request, most first, per Kustomization (per object
// for W2), with who usually makes them left to the reader.
func formatRequests(rows []row) string {
	var b strings.Builder
	for _, r := range rows {
		per, unit := float64(r.Kustomizations), "Kustomization"
		if r.Workload == "W2" || per == 0 {
			per, unit = float64(max(r.Objects, 1)), "object"
		}
		who := ""
		if r.Controller != "" {
			who = " (" + r.Controller + ")"
		}
		fmt.Fprintf(&b, "\n%s N=%d %s%s: %.0f requests, %.1f per %s\n", r.Workload, r.N, r.Phase, who, r.ClusterRequests, r.ClusterRequests/per, unit)
		keys := make([]string, 0, len(r.ClusterRequestsBy))
		for k := range r.ClusterRequestsBy {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, c string) int {
			return cmp.Or(cmp.Compare(r.ClusterRequestsBy[c], r.ClusterRequestsBy[a]), strings.Compare(a, c))
		})
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, k := range keys {
			if v := r.ClusterRequestsBy[k]; v/per >= 0.05 {
				fmt.Fprintf(tw, "  %.2f\t%s\t\n", v/per, k)
			}
		}
		_ = tw.Flush()
	}
	return b.String()
}
