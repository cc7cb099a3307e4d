package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/engine/chartrepo"
)

func TestW1FilesRenderFourObjectsPerIndex(t *testing.T) {
	for _, v := range []int{1, 2} {
		objs, err := renderW1(7, v)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, o := range objs {
			kinds = append(kinds, o.GetKind())
			if o.GetName() != "app-7" || o.GetNamespace() != "bench-0007" {
				t.Errorf("%s %s/%s: want app-7 in bench-0007", o.GetKind(), o.GetNamespace(), o.GetName())
			}
			if got := o.GetAnnotations()[versionAnnotation]; got != fmt.Sprintf("v%d", v) {
				t.Errorf("%s version %q, want v%d", o.GetKind(), got, v)
			}
			if _, err := resourceOf(o.GetAPIVersion(), o.GetKind()); err != nil {
				t.Error(err)
			}
		}
		if got := strings.Join(kinds, ","); got != "ServiceAccount,Service,Deployment,Ingress" || len(objs) != w1Objects {
			t.Errorf("kinds %s, want the %d of W1", got, w1Objects)
		}
		replicas := objs[2].Object["spec"].(map[string]any)["replicas"]
		if replicas != int64(0) && replicas != float64(0) {
			t.Errorf("replicas %v (%T), want 0 from ${PODS:=0}", replicas, replicas)
		}
	}
}

func TestW1FilesKeepVariablesForPostBuild(t *testing.T) {
	files := w1Files(1)
	if len(files) != w1Objects+1 {
		t.Fatalf("%d files, want %d objects and a kustomization.yaml", len(files), w1Objects)
	}
	for name, text := range files {
		if strings.HasSuffix(name, "kustomization.yaml") {
			continue
		}
		if !strings.Contains(text, "${INDEX}") {
			t.Errorf("%s has no ${INDEX}", name)
		}
	}
	if !strings.Contains(files[w1Path+"/deployment.yaml"], "replicas: ${PODS:=0}") {
		t.Error("deployment.yaml does not take its replicas from ${PODS:=0}")
	}
}

func TestW2FilesCountAndKinds(t *testing.T) {
	files := w2Files(2000, 1)
	counts := map[string]int{}
	names := map[string]bool{}
	for name, text := range files {
		if strings.HasSuffix(name, "kustomization.yaml") {
			if strings.Count(text, "\n- ") != len(w2Kinds()) {
				t.Errorf("kustomization.yaml lists %d files, want %d:\n%s", strings.Count(text, "\n- "), len(w2Kinds()), text)
			}
			continue
		}
		objs, err := decodeObjects(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, o := range objs {
			counts[o.GetKind()]++
			if names[o.GetKind()+"/"+o.GetName()] {
				t.Errorf("%s %s twice", o.GetKind(), o.GetName())
			}
			names[o.GetKind()+"/"+o.GetName()] = true
		}
	}
	total := 0
	for _, k := range w2Kinds() {
		if counts[k] != 400 {
			t.Errorf("%d %s, want 400", counts[k], k)
		}
		total += counts[k]
	}
	if total != 2000 {
		t.Errorf("%d objects, want 2000", total)
	}
}

func TestKustomizationChain(t *testing.T) {
	ks := kustomization(3, w1Path, 2, "1m")
	spec := ks.Object["spec"].(map[string]any)
	deps := spec["dependsOn"].([]any)
	if len(deps) != 1 || deps[0].(map[string]any)["name"] != "ks-0002" {
		t.Errorf("dependsOn %v, want ks-0002", deps)
	}
	if spec["targetNamespace"] != "bench-0003" || spec["wait"] != true || spec["prune"] != true {
		t.Errorf("spec %v", spec)
	}
	if _, ok := kustomization(0, w1Path, -1, "1m").Object["spec"].(map[string]any)["dependsOn"]; ok {
		t.Error("first Kustomization depends on something")
	}
}

func TestProcOfThisProcess(t *testing.T) {
	// Burn a little CPU so that the figure is not zero.
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	_ = x
	cpu, err := procCPUSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self, err := selfCPUSeconds()
	if err != nil {
		t.Fatal(err)
	}
	if cpu <= 0 || cpu > self+0.5 {
		t.Errorf("/proc CPU %.2fs, rusage %.2fs", cpu, self)
	}
	rss, err := procPeakRSSMiB(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1 || rss > 4096 {
		t.Errorf("peak RSS %.1f MiB", rss)
	}
}

func TestParseStatWithAwkwardName(t *testing.T) {
	stat := "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 0 0"
	cpu, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if cpu != 3 {
		t.Errorf("cpu %.2f, want 3 (300 ticks)", cpu)
	}
	if ppid, ok := parseStatPPID(stat); !ok || ppid != 1 {
		t.Errorf("ppid %d %v, want 1", ppid, ok)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Error("no error for garbage")
	}
}

func TestParseRequestsTotal(t *testing.T) {
	text := `# HELP rest_client_requests_total Number of HTTP requests
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"} 120
rest_client_requests_total{code="201",host="127.0.0.1:6443",method="POST"} 3.5e+01
rest_client_requests_total_other 99
rest_client_request_duration_seconds_count 7
`
	got, err := parseRequestsTotal(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if got != 155 {
		t.Errorf("sum %v, want 155", got)
	}
	if _, err := parseRequestsTotal(strings.NewReader("up 1\n")); err == nil {
		t.Error("no error when the metric is missing")
	}
}

func TestFormatTable(t *testing.T) {
	out := formatTable([]row{
		{Workload: "W0", Controller: labelBench, N: 100, Phase: "install", WallSeconds: 5.25, PerSecond: 19.05, ObjectsPerSecond: 76.2, PeakRSSMiB: 80, CPUSeconds: 1.5, APIRequests: 410, APIServerCPUSeconds: 3},
		{Workload: "W1", Controller: labelDriftless, N: 1000, Phase: "upgrade", WallSeconds: 20, PerSecond: 50, ObjectsPerSecond: 200, PeakRSSMiB: 120.4, CPUSeconds: 30, APIRequests: 12000, APIServerCPUSeconds: 25},
	})
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want header, 2 rows, W0 note:\n%s", len(lines), out)
	}
	if len(lines[0]) != len(lines[1]) || len(lines[1]) != len(lines[2]) {
		t.Errorf("columns not aligned:\n%s", out)
	}
	for _, want := range []string{"WORKLOAD", "CONTROLLER", "bench", "driftless", "KS/s", "PEAK RSS MiB", "5.2", "19.1", "12000", "upgrade"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestParseFlags(t *testing.T) {
	f, err := parseFlags([]string{"-workload", "w1,W3", "-n", "20"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.workloads, ",") != "W1,W3" || f.sizesOf("W3")[0] != 20 || f.sizesOf("W2")[0] != 2000 {
		t.Errorf("flags %+v", f)
	}
	f, _ = parseFlags(nil, os.Stderr)
	if len(f.workloads) != 5 || f.sizesOf("W4")[0] != 100 || f.sizesOf("W3")[0] != 50 || len(f.sizesOf("W1")) != 2 {
		t.Errorf("defaults %+v", f)
	}
	if _, err := parseFlags([]string{"-workload", "W10"}, io.Discard); err == nil {
		t.Error("W10 accepted")
	}
}

func TestParseMetricsReconcileSum(t *testing.T) {
	text := `rest_client_requests_total{code="200",host="x",method="GET"} 7
gotk_reconcile_duration_seconds_sum{kind="Kustomization",name="a",namespace="n"} 0.5
gotk_reconcile_duration_seconds_sum{kind="Kustomization",name="b",namespace="n"} 1.25
gotk_reconcile_duration_seconds_sum{kind="GitRepository",name="r",namespace="n"} 9
gotk_reconcile_duration_seconds_count{kind="Kustomization",name="a",namespace="n"} 3
gotk_cache_events_total{event_type="cache_miss",name="a",namespace="n"} 1
gotk_cache_events_total{event_type="cache_hit",name="a",namespace="n"} 4
gotk_cache_events_total{event_type="cache_hit",name="b",namespace="n"} 5
`
	m, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if m.requests != 7 || m.reconcile != 1.75 || !m.found {
		t.Fatalf("got %+v, want 7 requests and 1.75 s of Kustomization reconciles", m)
	}
	if m.cacheMisses != 1 || m.cacheHits != 9 {
		t.Errorf("cache misses %v, hits %v; want 1, 9", m.cacheMisses, m.cacheHits)
	}
}

func TestParseAPIServerRequests(t *testing.T) {
	text := `# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="All",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 3
apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 2
apiserver_request_total{code="409",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="kustomize.toolkit.fluxcd.io",resource="kustomizations",scope="resource",subresource="status",verb="PATCH",version="v1"} 4.5e+01
apiserver_request_total{code="200",component="",dry_run="",group="",resource="",scope="",subresource="/readyz",verb="GET",version=""} 9
apiserver_request_duration_seconds_count{verb="GET"} 100
`
	got, err := parseAPIServerRequests(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"APPLY deployments (dry-run)": 3, "APPLY deployments": 3, "PATCH kustomizations/status": 45}
	if !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := parseAPIServerRequests(strings.NewReader("apiserver_request_total{verb=\"GET\",resource=\"pods\"} x\n")); err == nil {
		t.Error("no error for a value that is not a number")
	}
}

func TestFormatRequests(t *testing.T) {
	out := formatRequests([]row{{Workload: "W1", N: 2, Phase: "install", Kustomizations: 2, ClusterRequests: 10,
		ClusterRequestsBy: map[string]float64{"APPLY deployments": 2, "POST events": 6, "GET pods": 0.05, "PATCH kustomizations": 2}}})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || lines[0] != "W1 N=2 install: 10 requests, 5.0 per Kustomization" ||
		!strings.Contains(lines[1], "3.00") || !strings.Contains(lines[1], "POST events") ||
		!strings.Contains(lines[2], "APPLY deployments") || !strings.Contains(lines[3], "PATCH kustomizations") {
		t.Errorf("formatRequests:\n%s", out)
	}
}

func TestFormatTableW2HasNoKustomizationRate(t *testing.T) {
	out := formatTable([]row{{Workload: "W2", Controller: labelDriftless, N: 2000, Phase: "install", WallSeconds: 25, PerSecond: 0.04, ObjectsPerSecond: 80, Kustomizations: 1, Objects: 2000}})
	fields := strings.Fields(strings.Split(out, "\n")[1])
	if len(fields) < 7 || fields[1] != labelDriftless || fields[5] != "–" || fields[6] != "80.0" {
		t.Errorf("W2 row %q: want – for KS/s and 80.0 objects/s", fields)
	}
}

func TestW7IndexIsABigValidIndex(t *testing.T) {
	url, size, stop, err := serveW7Repository(2)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if size < 20<<20 || size > 30<<20 {
		t.Errorf("index of %.1f MiB, want about 25", float64(size)/(1<<20))
	}
	idx, err := chartrepo.FetchIndex(context.Background(), url, chartrepo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != w7Charts*w7Versions || idx.Skipped() != 0 {
		t.Errorf("%d entries (%d skipped), want %d", idx.Len(), idx.Skipped(), w7Charts*w7Versions)
	}
	versions, err := idx.Versions(w7ChartName(1))
	if err != nil || versions[0] != w7Newest {
		t.Fatalf("newest version of %s: %v %v", w7ChartName(1), versions, err)
	}
	// The picked charts are real and match their entries' digests.
	entry, err := idx.Get(w7ChartName(1), w7Newest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chartrepo.DownloadChart(context.Background(), url, entry, chartrepo.Options{}); err != nil {
		t.Errorf("download the picked chart: %v", err)
	}
	f, err := parseFlags([]string{"-workload", "W7"}, io.Discard)
	if err != nil || len(f.sizesOf("W7")) != 1 || f.sizesOf("W7")[0] != w7DefaultCharts {
		t.Errorf("W7 sizes %v (%v), want [%d]", f.sizesOf("W7"), err, w7DefaultCharts)
	}
}

// renderW5 renders W5's chart, loaded from its package as the controller
// loads it, with HelmRelease i's values at version v, as Helm would
// install it in i's target namespace.
func renderW5(t *testing.T, i, v int) []*unstructured.Unstructured {
	t.Helper()
	archive, err := w5ChartOf().Package()
	if err != nil {
		t.Fatal(err)
	}
	chrt, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatalf("load the packaged chart: %v", err)
	}
	// The values go through JSON, as a HelmRelease's spec.values do.
	raw, err := json.Marshal(w5Values(i, v))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := json.Unmarshal(raw, &vals); err != nil {
		t.Fatal(err)
	}
	top, err := chartutil.ToRenderValues(chrt, vals, common.ReleaseOptions{Name: "r", Namespace: targetNamespace(i), IsInstall: true}, common.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(chrt, top)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var out []*unstructured.Unstructured
	for _, name := range []string{"serviceaccount.yaml", "service.yaml", "deployment.yaml", "ingress.yaml"} {
		objs, err := decodeObjects(files[w5Chart+"/templates/"+name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, o := range objs {
			o.SetNamespace(targetNamespace(i))
		}
		out = append(out, objs...)
	}
	return out
}

func TestW5ChartRendersW1Objects(t *testing.T) {
	for _, v := range []int{1, 2} {
		got := renderW5(t, 7, v)
		want, err := renderW1(7, v)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != w1Objects {
			t.Fatalf("version %d: %d objects, want %d", v, len(got), w1Objects)
		}
		for k := range want {
			// Compare through JSON: YAML gives int64 and float64 alike.
			g, _ := json.Marshal(got[k].Object)
			w, _ := json.Marshal(want[k].Object)
			if !bytes.Equal(g, w) {
				t.Errorf("version %d, %s: chart renders\n%s\nW1 applies\n%s", v, want[k].GetKind(), g, w)
			}
		}
	}
	if d := renderW5(t, 3, 1)[2]; d.GetKind() != "Deployment" || fmt.Sprint(d.Object["spec"].(map[string]any)["replicas"]) != "0" {
		t.Errorf("Deployment %s replicas %v, want 0", d.GetName(), d.Object["spec"].(map[string]any)["replicas"])
	}
	if got, want := renderW5(t, 3, 2)[2], "example.com/app:1.0.2"; !strings.Contains(fmt.Sprint(got.Object["spec"]), want) {
		t.Errorf("upgraded Deployment lacks image %s: %v", want, got.Object["spec"])
	}
}

func TestW5HelmRelease(t *testing.T) {
	hr := helmRelease(42, 1)
	spec := hr.Object["spec"].(map[string]any)
	if hr.GetName() != "hr-0042" || hr.GetNamespace() != fleetNamespace {
		t.Errorf("HelmRelease %s/%s", hr.GetNamespace(), hr.GetName())
	}
	if spec["targetNamespace"] != "bench-0042" || spec["storageNamespace"] != "bench-0042" || spec["interval"] != "60m" {
		t.Errorf("spec %v: want target and storage namespace bench-0042, interval 60m", spec)
	}
	chart := spec["chart"].(map[string]any)["spec"].(map[string]any)
	if chart["chart"] != w5Chart || chart["version"] != "*" || chart["interval"] != "600m" ||
		chart["sourceRef"].(map[string]any)["name"] != w5Repository {
		t.Errorf("chart %v", chart)
	}
	if spec["install"].(map[string]any)["crds"] != "Create" || spec["upgrade"].(map[string]any)["crds"] != "CreateReplace" || spec["driftDetection"].(map[string]any)["mode"] != "enabled" {
		t.Errorf("install %v, upgrade %v, driftDetection %v", spec["install"], spec["upgrade"], spec["driftDetection"])
	}
	if _, err := resourceOf(hr.GetAPIVersion(), hr.GetKind()); err != nil {
		t.Error(err)
	}
	// The Ready test: revision 1, not 2; not while reconciling; not for an
	// older generation.
	status := func(gen, observed, version int64, reconciling string) *unstructured.Unstructured {
		o := helmRelease(0, 1)
		o.SetGeneration(gen)
		o.Object["status"] = map[string]any{
			"observedGeneration": observed,
			"conditions": []any{
				map[string]any{"type": "Ready", "status": "True"},
				map[string]any{"type": "Reconciling", "status": reconciling},
			},
			"history": []any{map[string]any{"version": version}, map[string]any{"version": version - 1}},
		}
		return o
	}
	for _, tc := range []struct {
		obj  *unstructured.Unstructured
		want int64
		ok   bool
	}{
		{status(1, 1, 1, "False"), 1, true},
		{status(1, 1, 1, "False"), 2, false},
		{status(2, 2, 2, "False"), 2, true},
		{status(2, 1, 2, "False"), 2, false},
		{status(2, 2, 2, "True"), 2, false},
	} {
		if got := releasedAt(tc.want)(tc.obj); got != tc.ok {
			t.Errorf("releasedAt(%d) of %v: %v, want %v", tc.want, tc.obj.Object["status"], got, tc.ok)
		}
	}
}

func TestW5Flags(t *testing.T) {
	f, err := parseFlags([]string{"-workload", "W5,W1", "-n", "100"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.concurrentOf("W5") != w5Concurrent || f.concurrentOf("W1") != 20 || f.w5Source != w5SourceOCI || f.sizesOf("W5")[0] != 100 {
		t.Errorf("W5 --concurrent %d, W1 %d, source %q; want %d, 20, oci", f.concurrentOf("W5"), f.concurrentOf("W1"), f.w5Source, w5Concurrent)
	}
	f, err = parseFlags([]string{"-workload", "W5", "-concurrent", "4", "-w5-source", "http"}, io.Discard)
	if err != nil || f.concurrentOf("W5") != 4 || f.w5Source != w5SourceHTTP {
		t.Errorf("-concurrent 4 -w5-source http: %+v %v", f, err)
	}
	if _, err := parseFlags([]string{"-workload", "W5", "-w5-source", "git"}, io.Discard); err == nil || !strings.Contains(err.Error(), "git") {
		t.Errorf("-w5-source git: %v, want an error naming it", err)
	}
	if out := formatTable([]row{{Workload: "W5", N: 100, Phase: "install", WallSeconds: 10, PerSecond: 10}}); !strings.Contains(out, "HelmReleases") {
		t.Errorf("no W5 note:\n%s", out)
	}
}

func TestW5HTTPRepositoryServesTheChart(t *testing.T) {
	url, stop, err := serveW5Repository(w5ChartOf())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	idx, err := chartrepo.FetchIndex(context.Background(), url, chartrepo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := idx.Get(w5Chart, w5ChartVersion)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chartrepo.DownloadChart(context.Background(), url, entry, chartrepo.Options{}); err != nil {
		t.Errorf("download %s %s (digest checked): %v", w5Chart, w5ChartVersion, err)
	}
}

func TestW5CRDs(t *testing.T) {
	crds, err := benchCRDs(3)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]bool{}
	for _, o := range crds {
		if _, err := resourceOf(o.GetAPIVersion(), o.GetKind()); err != nil {
			t.Error(err)
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
		if o.GetName() != plural+"."+group {
			t.Errorf("CRD %s, want %s.%s", o.GetName(), plural, group)
		}
		groups[group] = true
	}
	if len(crds) != 3 || len(groups) != 3 {
		t.Errorf("%d CRDs in %d groups, want 3 in 3", len(crds), len(groups))
	}
	f, err := parseFlags([]string{"-workload", "W5", "-crds", "250"}, io.Discard)
	if err != nil || f.crds != 250 {
		t.Errorf("-crds 250: %d %v", f.crds, err)
	}
	if _, err := parseFlags([]string{"-crds", "-1"}, io.Discard); err == nil {
		t.Error("-crds -1 accepted")
	}
	if w5Workload(0) != "W5" || w5Workload(250) != "W5+250CRDs" {
		t.Errorf("workload names %q %q", w5Workload(0), w5Workload(250))
	}
}

func TestParseNotifyCountsEveryResult(t *testing.T) {
	text := `# HELP driftless_notification_events_total x
driftless_notification_events_total{result="queued"} 120
driftless_notification_events_total{result="rate_limited"} 7
driftless_notification_events_total{result="queue_full"} 2
driftless_notification_deliveries_total{provider_type="generic",reason="",result="sent"} 100
driftless_notification_deliveries_total{provider_type="generic",reason="",result="retried"} 9
driftless_notification_deliveries_total{provider_type="generic",reason="",result="failed"} 1
driftless_notification_deliveries_total{provider_type="generic",reason="queue_full",result="dropped"} 3
driftless_notification_relay_events_total{result="dropped"} 4
driftless_notification_relay_events_total{result="sent"} 500
driftless_notification_queue_length{queue="ingress"} 5
driftless_notification_queue_length{queue="generic"} 1
`
	n, err := parseNotify(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := notifyCounts{queued: 120, rateLimited: 7, dropped: 2, sent: 100, failed: 1, deliveryDropped: 3, relayDropped: 4, waiting: 6}
	if n != want {
		t.Errorf("parseNotify = %+v; want %+v", n, want)
	}
	d := want.minus(notifyCounts{queued: 20, sent: 50})
	if d.queued != 100 || d.sent != 50 || d.waiting != 6 {
		t.Errorf("minus = %+v", d)
	}
}

func TestFormatTableAccountsNotifications(t *testing.T) {
	out := formatTable([]row{{Workload: "W1A", N: 5, Phase: "install",
		Notifications: &notificationFigures{Submitted: 16, Sent: 10, Received: 10, RateLimited: 0, Lost: 0}}})
	if !strings.Contains(out, "W1A N=5 install: 16 events submitted: 10 sent (the webhook got 10), 0 rate limited, 0 lost") {
		t.Errorf("the table does not account for W1A's notifications:\n%s", out)
	}
}

func TestW6FilesMarkEveryDeploymentForItsPolicy(t *testing.T) {
	files := w6Files(3, "127.0.0.1:5000")
	if len(files) != 4 {
		t.Fatalf("%d files, want 3 Deployments and a kustomization.yaml", len(files))
	}
	for i := range 3 {
		app := w6App(i)
		objs, err := decodeObjects(files[w6Path+"/"+app+".yaml"])
		if err != nil || len(objs) != 1 || objs[0].GetKind() != "Deployment" || objs[0].GetName() != app {
			t.Fatalf("%s: %v %v", app, objs, err)
		}
		want := `image: 127.0.0.1:5000/bench/` + app + `:1.0.0 # {"$imagepolicy": "flux-system:` + app + `"}`
		if !strings.Contains(files[w6Path+"/"+app+".yaml"], want) {
			t.Errorf("%s lacks the marked image line %q", app, want)
		}
		if !strings.Contains(files[w6Path+"/kustomization.yaml"], "- "+app+".yaml") {
			t.Errorf("kustomization.yaml does not list %s", app)
		}
	}
	repos, policies, automation := w6Objects(3, "127.0.0.1:5000")
	if len(repos) != 3 || len(policies) != 3 || automation.GetKind() != "ImageUpdateAutomation" {
		t.Fatalf("objects: %d repositories, %d policies, %s", len(repos), len(policies), automation.GetKind())
	}
	if ref, _, _ := unstructured.NestedString(policies[1].Object, "spec", "imageRepositoryRef", "name"); ref != w6App(1) {
		t.Errorf("policy 1 names repository %q", ref)
	}
}

func TestW6Predicates(t *testing.T) {
	obj := func(status map[string]any) *unstructured.Unstructured {
		status["conditions"] = []any{map[string]any{"type": "Ready", "status": "True"}}
		return &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"generation": int64(1)},
			"status": mergeStatus(status, map[string]any{"observedGeneration": int64(1)})}}
	}
	if !pickedTag("1.1.0")(obj(map[string]any{"latestRef": map[string]any{"tag": "1.1.0"}})) ||
		pickedTag("1.1.0")(obj(map[string]any{"latestRef": map[string]any{"tag": "1.0.0"}})) {
		t.Error("pickedTag")
	}
	if !scannedTags(2)(obj(map[string]any{"lastScanResult": map[string]any{"tagCount": int64(2)}})) {
		t.Error("scannedTags")
	}
	var head string
	if pushedOtherThan("abc", &head)(obj(map[string]any{"lastPushCommit": "abc"})) ||
		!pushedOtherThan("abc", &head)(obj(map[string]any{"lastPushCommit": "def"})) || head != "def" {
		t.Errorf("pushedOtherThan, head %q", head)
	}
	d := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"image": "127.0.0.1:5000/bench/app-000:1.1.0"}}}}}}}
	if !runsTag("1.1.0")(d) || runsTag("1.0.0")(d) {
		t.Error("runsTag")
	}
}

func mergeStatus(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}
