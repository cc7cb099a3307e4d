package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// The test binary doubles as a fake Flux controller: run under the name
// of one (a symlink in a -flux directory) with fakeFluxEnv set, it checks
// its flags and environment as the real controller would need them,
// records them, serves /readyz and /metrics, and exits on SIGTERM.
const (
	fakeFluxEnv = "BENCH_FAKE_FLUX_CONTROLLER"
	// fakeFluxFailEnv names a controller that refuses to start.
	fakeFluxFailEnv = "BENCH_FAKE_FLUX_FAIL"
)

// fakeRequests is what each fake reports as rest_client_requests_total.
var fakeRequests = map[string]float64{fluxSource: 11, fluxKustomize: 22, fluxHelm: 33}

func TestMain(m *testing.M) {
	if os.Getenv(fakeFluxEnv) != "" {
		os.Exit(fakeFluxController(filepath.Base(os.Args[0]), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeRecord is what a fake controller saw.
type fakeRecord struct {
	Args []string          `json:"args"`
	Env  map[string]string `json:"env"`
}

func fakeFluxController(name string, args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "fake %s: "+format+"\n", append([]any{name}, a...)...)
		return 2
	}
	if _, ok := fakeRequests[name]; !ok {
		return fail("not a Flux controller name")
	}
	if os.Getenv(fakeFluxFailEnv) == name {
		return fail("refusing to start, as asked")
	}
	// The flags the real controller has: an unknown one (a storage flag
	// given to helm-controller) fails it as it would fail Flux's.
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	watchAll := fs.Bool("watch-all-namespaces", false, "")
	fs.String("log-level", "", "")
	fs.String("log-encoding", "", "")
	leader := fs.Bool("enable-leader-election", true, "")
	metrics := fs.String("metrics-addr", ":8080", "")
	health := fs.String("health-addr", ":9440", "")
	concurrent := fs.Int("concurrent", 4, "")
	var storagePath, storageAddr, storageAdv *string
	if name == fluxSource {
		storagePath = fs.String("storage-path", "", "")
		storageAddr = fs.String("storage-addr", ":9090", "")
		storageAdv = fs.String("storage-adv-addr", "", "")
	}
	if err := fs.Parse(args); err != nil {
		return fail("%v", err)
	}
	switch {
	case !*watchAll:
		return fail("--watch-all-namespaces not set")
	case *leader:
		return fail("leader election is on")
	case *concurrent < 1:
		return fail("--concurrent=%d", *concurrent)
	case !strings.HasPrefix(*metrics, "127.0.0.1:") || !strings.HasPrefix(*health, "127.0.0.1:"):
		return fail("metrics %s and health %s are not on loopback", *metrics, *health)
	}
	kubeconfig := os.Getenv("KUBECONFIG")
	if _, err := os.Stat(kubeconfig); kubeconfig == "" || err != nil {
		return fail("KUBECONFIG %q is not a file: %v", kubeconfig, err)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return fail("GOMAXPROCS is set")
	}
	for _, k := range []string{"HOME", "TMPDIR"} {
		if info, err := os.Stat(os.Getenv(k)); err != nil || !info.IsDir() {
			return fail("%s %q is not a directory", k, os.Getenv(k))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "rest_client_requests_total{code=\"200\",host=\"x\",method=\"GET\"} %g\n", fakeRequests[name])
		fmt.Fprintf(w, "gotk_reconcile_duration_seconds_sum{kind=\"Kustomization\",name=\"a\",namespace=\"n\"} 1.5\n")
	})
	addrs := []string{*metrics, *health}
	if name == fluxSource {
		if info, err := os.Stat(*storagePath); err != nil || !info.IsDir() {
			return fail("--storage-path %q is not a directory", *storagePath)
		}
		if *storageAdv != *storageAddr {
			return fail("--storage-adv-addr %s is not where the storage listens (%s)", *storageAdv, *storageAddr)
		}
		addrs = append(addrs, *storageAddr)
	}
	errs := make(chan error, len(addrs))
	for _, a := range addrs {
		go func() { errs <- http.ListenAndServe(a, mux) }()
	}
	rec := fakeRecord{Args: args, Env: map[string]string{}}
	for _, k := range []string{"KUBECONFIG", "RUNTIME_NAMESPACE", "HOME", "TMPDIR", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			rec.Env[k] = v
		}
	}
	raw, _ := json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(os.Getenv("HOME"), "record.json"), raw, 0o600); err != nil {
		return fail("%v", err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	select {
	case <-stop:
		_ = os.WriteFile(filepath.Join(os.Getenv("HOME"), "stopped"), nil, 0o600)
		return 0
	case err := <-errs:
		return fail("serve: %v", err)
	}
}

// fakeFluxDir is a -flux directory whose controllers are this test binary.
func fakeFluxDir(t *testing.T, names ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range names {
		if err := os.Symlink(self, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFluxFlagNamesTheMissingController(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, fluxSource), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fluxKustomize), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := parseFlags([]string{"-workload", "W1,W5", "-flux", dir}, io.Discard)
	if err == nil {
		t.Fatal("-flux with helm-controller missing and kustomize-controller not executable accepted")
	}
	for _, want := range []string{
		filepath.Join(dir, fluxHelm) + " (W5 needs source-controller and helm-controller): no such file",
		filepath.Join(dir, fluxKustomize) + " (W1 needs source-controller and kustomize-controller): not executable",
		"docs/performance.md",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), filepath.Join(dir, fluxSource)+" (") {
		t.Errorf("error names source-controller, which is there:\n%v", err)
	}

	// W5 alone does not need kustomize-controller; W1 alone not helm-controller.
	if err := os.Chmod(filepath.Join(dir, fluxKustomize), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := parseFlags([]string{"-workload", "W1", "-flux", dir}, io.Discard)
	if err != nil || f.fluxDir != dir {
		t.Errorf("-workload W1 with source- and kustomize-controller: %v (dir %q)", err, f.fluxDir)
	}
	if _, err := parseFlags([]string{"-workload", "W5", "-flux", dir}, io.Discard); err == nil || !strings.Contains(err.Error(), fluxHelm) {
		t.Errorf("-workload W5 without helm-controller: %v", err)
	}

	// A relative DIR is made absolute.
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := parseFlags([]string{"-workload", "W1", "-flux", rel}, io.Discard); err != nil || f.fluxDir != dir {
		t.Errorf("-flux %s: dir %q, %v; want %s", rel, f.fluxDir, err, dir)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-workload", "W1", "-flux", filepath.Join(dir, "nowhere")}, "no such file"},
		{[]string{"-workload", "W1", "-flux", filepath.Join(dir, fluxSource)}, "not a directory"},
		{[]string{"-workload", "W0", "-flux", dir}, "none of the workloads W0 has a Flux run"},
	} {
		if _, err := parseFlags(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

func TestFluxArgsAreFluxDeploymentsOnLoopback(t *testing.T) {
	a := fluxAddrs{metrics: "127.0.0.1:1", health: "127.0.0.1:2", storage: "127.0.0.1:3"}
	src := fluxArgs(fluxSource, "/run/flux/source-controller", a, 20)
	for _, want := range []string{
		"--watch-all-namespaces=true", "--enable-leader-election=false", "--log-encoding=json",
		"--metrics-addr=127.0.0.1:1", "--health-addr=127.0.0.1:2", "--concurrent=20",
		"--storage-path=/run/flux/source-controller/data", "--storage-addr=127.0.0.1:3", "--storage-adv-addr=127.0.0.1:3",
	} {
		if !slices.Contains(src, want) {
			t.Errorf("source-controller args %q lack %s", src, want)
		}
	}
	for _, name := range []string{fluxKustomize, fluxHelm} {
		args := fluxArgs(name, "/run/flux/"+name, a, 10)
		if !slices.Contains(args, "--concurrent=10") || !slices.Contains(args, "--watch-all-namespaces=true") {
			t.Errorf("%s args %q", name, args)
		}
		for _, arg := range args {
			if strings.HasPrefix(arg, "--storage") || strings.HasPrefix(arg, "--events-addr") {
				t.Errorf("%s gets %s, a flag it does not have or a receiver that does not run", name, arg)
			}
		}
	}

	base := []string{"PATH=/bin", "GOMAXPROCS=1", "KUBECONFIG=/home/me/.kube/config", "HOME=/home/me", "TMPDIR=/tmp", "RUNTIME_NAMESPACE=x", "LANG=C"}
	env := fluxEnv(base, "/run/cluster/kubeconfig", "/run/flux/helm-controller")
	want := []string{"PATH=/bin", "LANG=C", "KUBECONFIG=/run/cluster/kubeconfig", "RUNTIME_NAMESPACE=flux-system",
		"HOME=/run/flux/helm-controller/home", "TMPDIR=/run/flux/helm-controller/tmp"}
	if !slices.Equal(env, want) {
		t.Errorf("env\n%q\nwant\n%q", env, want)
	}
	if base[2] != "KUBECONFIG=/home/me/.kube/config" {
		t.Error("fluxEnv changed the environment it was given")
	}
}

// fakeEnv is a run's env whose cluster is only a kubeconfig file, for
// starting fake controllers.
func fakeEnv(t *testing.T, fluxDir, workload string) *env {
	t.Helper()
	runDir := t.TempDir()
	kubeconfig := filepath.Join(runDir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config{fluxDir: fluxDir, workload: workload, variant: labelFlux, concurrent: 7, progress: io.Discard}
	return &env{cfg: cfg, dir: runDir, cluster: &cluster{kubeconfig: kubeconfig}}
}

func readRecord(t *testing.T, runDir, name string) fakeRecord {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(runDir, "flux", name, "home", "record.json"))
	if err != nil {
		t.Fatalf("%s left no record: %v", name, err)
	}
	var rec fakeRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestFluxControllersRunAndAreMeasuredAsASum(t *testing.T) {
	t.Setenv(fakeFluxEnv, "1")
	t.Setenv("GOMAXPROCS", "1") // the bench's own: the controllers run without it
	// The user's cluster: no controller may see it.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "users-own-kubeconfig"))
	dir := fakeFluxDir(t, fluxSource, fluxKustomize, fluxHelm)
	for _, tc := range []struct {
		workload string
		want     []string
	}{
		{"W1", []string{fluxSource, fluxKustomize}},
		{"W5", []string{fluxSource, fluxHelm}},
		{"W7", []string{fluxSource}},
	} {
		t.Run(tc.workload, func(t *testing.T) {
			e := fakeEnv(t, dir, tc.workload)
			if err := e.startControllers(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer func() {
				for _, c := range e.flux {
					if err := c.stop(); err != nil {
						t.Error(err)
					}
				}
			}()
			if e.ctrl != nil {
				t.Error("driftless-controller started in the flux variant")
			}
			var names []string
			for _, c := range e.flux {
				names = append(names, c.proc.Name)
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("started %v, want %v", names, tc.want)
			}

			s := e.controllersSubject()
			got, err := s.sample(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var requests, rss, cpu float64
			for _, name := range tc.want {
				requests += fakeRequests[name]
				if got.peakRSSBy[name] <= 0 {
					t.Errorf("peak RSS of %s %v", name, got.peakRSSBy[name])
				}
				rss += got.peakRSSBy[name]
				cpu += got.cpuBy[name]
			}
			if got.requests != requests {
				t.Errorf("requests %v, want the sum %v", got.requests, requests)
			}
			if want := 1.5 * float64(len(tc.want)); got.reconcile != want {
				t.Errorf("reconcile seconds %v, want 1.5 from each: %v", got.reconcile, want)
			}
			if len(got.peakRSSBy) != len(tc.want) || got.peakRSS != rss {
				t.Errorf("peak RSS %v by process %v, want the sum of the processes' peaks %v", got.peakRSS, got.peakRSSBy, rss)
			}
			if got.cpu != cpu {
				t.Errorf("CPU %v, want the sum %v", got.cpu, cpu)
			}
			m, err := e.scrapeControllers(context.Background())
			if err != nil || m.requests != requests {
				t.Errorf("scrapeControllers: %v requests (%v), want %v", m.requests, err, requests)
			}

			// measure turns two samples into the row's per-process costs.
			r, err := measure(context.Background(), s, row{Workload: tc.workload, Kustomizations: 1}, func() error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			rss = 0
			for _, name := range tc.want {
				rss += r.Processes[name].PeakRSSMiB
			}
			if len(r.Processes) != len(tc.want) || r.PeakRSSMiB != rss {
				t.Errorf("row processes %v, peak RSS %v", r.Processes, r.PeakRSSMiB)
			}

			for _, name := range tc.want {
				rec := readRecord(t, e.dir, name)
				want := map[string]string{
					"KUBECONFIG":        e.cluster.kubeconfig,
					"RUNTIME_NAMESPACE": "flux-system",
					"HOME":              filepath.Join(e.dir, "flux", name, "home"),
					"TMPDIR":            filepath.Join(e.dir, "flux", name, "tmp"),
				}
				if fmt.Sprint(rec.Env) != fmt.Sprint(want) {
					t.Errorf("%s env %v, want %v", name, rec.Env, want)
				}
				if !slices.Contains(rec.Args, "--concurrent=7") {
					t.Errorf("%s args %q lack the run's --concurrent=7", name, rec.Args)
				}
			}
		})
	}
}

func TestFluxControllerThatFailsIsNamedAndTheOthersStopped(t *testing.T) {
	t.Setenv(fakeFluxEnv, "1")
	t.Setenv(fakeFluxFailEnv, fluxKustomize)
	e := fakeEnv(t, fakeFluxDir(t, fluxSource, fluxKustomize), "W3")
	err := e.startControllers(context.Background())
	if err == nil {
		t.Fatal("no error when kustomize-controller exits at once")
	}
	for _, want := range []string{"kustomize-controller exited", "refusing to start", filepath.Join(e.dir, "flux", fluxKustomize, fluxKustomize+".log")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if e.flux != nil {
		t.Errorf("controllers kept after a failed start: %v", e.flux)
	}
	// source-controller had started; it was stopped (its handler of
	// SIGTERM leaves a mark), not left running.
	if _, err := os.Stat(filepath.Join(e.dir, "flux", fluxSource, "home", "stopped")); err != nil {
		t.Errorf("source-controller was not stopped: %v", err)
	}
}

func TestFluxVariantsAndRowLabels(t *testing.T) {
	for _, tc := range []struct {
		dir, workload string
		want          []string
	}{
		{"", "W1", []string{labelDriftless}},
		{"/flux", "W1", []string{labelDriftless, labelFlux}},
		{"/flux", "W4", []string{labelDriftless, labelFlux}},
		{"/flux", "W5", []string{labelDriftless, labelFlux}},
		{"/flux", "W0", []string{labelDriftless}},
		{"/flux", "W7", []string{labelDriftless, labelFlux}},
		{"/flux", "W8", []string{labelDriftless, labelFlux}},
	} {
		if got := variantsOf(tc.dir, tc.workload); !slices.Equal(got, tc.want) {
			t.Errorf("variantsOf(%q, %s) = %v, want %v", tc.dir, tc.workload, got, tc.want)
		}
	}
	if r := labelRows([]row{{Workload: "W0"}}, "W0", labelDriftless); r[0].Controller != labelBench {
		t.Errorf("W0 row labelled %q, want bench", r[0].Controller)
	}
	e := &env{cfg: config{workload: "W0", variant: labelFlux, progress: io.Discard}}
	if err := e.startControllers(context.Background()); err == nil || !strings.Contains(err.Error(), "W0 has no Flux run") {
		t.Errorf("flux variant of W0: %v", err)
	}

	rows := append(labelRows([]row{{Workload: "W1", N: 100, Phase: "install", PeakRSSMiB: 86, CPUSeconds: 1.2}}, "W1", labelDriftless),
		labelRows([]row{{Workload: "W1", N: 100, Phase: "install", PeakRSSMiB: 262, CPUSeconds: 10.9,
			Processes: map[string]processCost{fluxSource: {CPUSeconds: 0.5, PeakRSSMiB: 91}, fluxKustomize: {CPUSeconds: 10.4, PeakRSSMiB: 171}}}}, "W1", labelFlux)...)
	out := formatTable(rows)
	lines := strings.Split(out, "\n")
	if f := strings.Fields(lines[1]); len(f) < 2 || f[1] != labelDriftless {
		t.Errorf("first row %q, want labelled driftless", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) < 8 || f[1] != labelFlux || f[7] != "262" {
		t.Errorf("second row %q, want labelled flux with the summed peak RSS 262", lines[2])
	}
	for _, want := range []string{"sum of each process's own peak", "W1 N=100 install: kustomize-controller 10.4 s, 171 MiB; source-controller 0.5 s, 91 MiB", "same machine"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if req := formatRequests(rows); !strings.Contains(req, "W1 N=100 install (driftless): ") || !strings.Contains(req, "W1 N=100 install (flux): ") {
		t.Errorf("-requests does not say whose rows are whose:\n%s", req)
	}
	w3 := formatTable([]row{{Workload: "W3", Controller: labelDriftless, N: 50, WallSeconds: 3, ReconcileSeconds: 9},
		{Workload: "W3", Controller: labelFlux, N: 50, WallSeconds: 30, ReconcileSeconds: 20}})
	if !strings.Contains(w3, "W3 N=50 (driftless): wall 3.0 s") || !strings.Contains(w3, "W3 N=50 (flux): wall 30.0 s") {
		t.Errorf("W3 notes do not say whose they are:\n%s", w3)
	}
	if strings.Contains(formatTable(rows[:1]), "flux:") {
		t.Error("the flux note is printed without flux rows")
	}
	raw, err := json.Marshal(rows[1])
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	procs, _ := back["processes"].(map[string]any)
	if back["controller"] != labelFlux || len(procs) != 2 {
		t.Errorf("JSON %s: want controller flux and two processes", raw)
	}
	if raw, _ := json.Marshal(rows[0]); !strings.Contains(string(raw), `"controller":"driftless"`) || strings.Contains(string(raw), "processes") {
		t.Errorf("JSON of the driftless row %s", raw)
	}
}

func TestFluxDirInsideTheRepositoryIsRefused(t *testing.T) {
	root := t.TempDir()
	for _, sub := range []string{".cache/flux", "bin"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	outside := t.TempDir()
	link := filepath.Join(outside, "to-repo")
	if err := os.Symlink(filepath.Join(root, "bin"), link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir     string
		refused bool
	}{
		{filepath.Join(root, ".cache", "flux"), true},
		{root, true},
		{link, true}, // a symlink into the repository is inside it
		{outside, false},
		{root + "-flux", false}, // a sibling whose name starts alike
	} {
		if tc.dir == root+"-flux" {
			if err := os.MkdirAll(tc.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tc.dir) })
		}
		err := checkOutsideRepo(tc.dir, root)
		if (err != nil) != tc.refused {
			t.Errorf("checkOutsideRepo(%s): %v, want refused %v", tc.dir, err, tc.refused)
		}
		if err != nil && !strings.Contains(err.Error(), "outside it") {
			t.Errorf("error %v does not say what to do", err)
		}
	}
}
