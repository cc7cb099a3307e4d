package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/manager"
)

// fillHelmRelease is what a helm-controller records after releasing chart
// podinfo 6.5.0: the generated HelmChart, one history entry, and the
// forceAt and resetAt requests it handled.
func fillHelmRelease(obj meta.Object) {
	hr := obj.(*helmv2.HelmRelease)
	now := metav1.Now()
	if hr.Spec.Chart != nil {
		hr.Status.HelmChart = kinds.HelmReleaseSource(hr).Namespace + "/" + hr.GetHelmChartName()
	}
	hr.Status.LastAttemptedRevision = "6.5.0"
	hr.Status.StorageNamespace = hr.GetStorageNamespace()
	hr.Status.History = []helmv2.Snapshot{{
		Digest: "sha256:" + sha256Hex([]byte("release")), Name: hr.GetReleaseName(), Namespace: hr.GetReleaseNamespace(),
		Version: 1, Status: "deployed", Action: "install", ChartName: "podinfo", ChartVersion: "6.5.0", AppVersion: "6.5.0",
		ConfigDigest: "sha256:" + sha256Hex([]byte("values")), FirstDeployed: now, LastDeployed: now,
	}}
	hr.Status.LastHandledForceAt = hr.Annotations[meta.ForceRequestAnnotation]
	hr.Status.LastHandledResetAt = hr.Annotations[meta.ResetRequestAnnotation]
}

// fillChartSource is what source-controller records for a HelmRepository
// index or a HelmChart: an artifact.
func fillChartSource(obj meta.Object) {
	art := &meta.Artifact{Path: "x/" + obj.GetName() + ".tgz", URL: "http://source-controller./x/" + obj.GetName() + ".tgz",
		Revision: "6.5.0", Digest: "sha256:" + sha256Hex([]byte(obj.GetName())), LastUpdateTime: metav1.Now()}
	switch o := obj.(type) {
	case *sourcev1.HelmRepository:
		art.Revision = "sha256:" + sha256Hex([]byte("index"))
		o.Status.Artifact = art
	case *sourcev1.HelmChart:
		o.Status.Artifact = art
	}
}

func TestCreateHelmReleaseExport(t *testing.T) {
	dir := t.TempDir()
	first := dir + "/values1.yaml"
	second := dir + "/values2.yaml"
	if err := os.WriteFile(first, []byte("replicaCount: 1\nimage:\n  tag: 6.5.0\n  pullPolicy: IfNotPresent\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, []byte("replicaCount: 3\nimage:\n  tag: 6.6.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create/helmrelease-minimal.yaml", []string{"create", "helmrelease", "podinfo", "-n", "flux-system",
			"--source=HelmRepository/podinfo", "--chart=podinfo", "--export"}},
		{"create/helmrelease-full.yaml", []string{"create", "hr", "podinfo", "-n", "apps",
			"--source=helmrepository/podinfo.flux-system", "--chart=podinfo", "--chart-version=>4.0.0",
			"--chart-interval=30m", "--reconcile-strategy=Revision", "--release-name=podinfo-dev",
			"--target-namespace=web", "--create-target-namespace", "--storage-namespace=helm-records",
			"--depends-on=infra,flux-system/crds", "--service-account=deployer", "--crds=CreateReplace",
			"--kubeconfig-secret-ref=remote", "--values=" + first + "," + second,
			"--values-from=Secret/podinfo-secret", "--values-from=configmap/podinfo-values",
			"--interval=10m", "--label=app=podinfo", "--export"}},
		{"create/helmrelease-git.yaml", []string{"create", "hr", "podinfo", "-n", "flux-system",
			"--source=GitRepository/podinfo", "--chart=./charts/podinfo", "--export"}},
		{"create/helmrelease-chartref.yaml", []string{"create", "hr", "podinfo", "-n", "apps",
			"--chart-ref=OCIRepository/podinfo.flux-system", "--crds=Skip", "--export"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := runFlux(t, "", tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			compareCLIGolden(t, tc.golden, out)
		})
	}
}

func TestCreateHelmReleaseBadFlags(t *testing.T) {
	dir := t.TempDir()
	list := dir + "/list.yaml"
	broken := dir + "/broken.yaml"
	if err := os.WriteFile(list, []byte("- a\n- b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("a: [1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "--source=HelmRepository/podinfo"
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{}, "a chart is required"},
		{[]string{"--chart=podinfo"}, "chart source is required"},
		{[]string{src}, "chart name or path is required"},
		{[]string{src, "--chart=podinfo", "--chart-ref=OCIRepository/podinfo"}, "--chart-ref names the chart on its own"},
		{[]string{"--chart-ref=OCIRepository/podinfo", "--chart-interval=5m"}, "--chart-interval"},
		{[]string{"--chart-ref=GitRepository/podinfo"}, `kind "GitRepository" in --chart-ref`},
		{[]string{"--chart-ref=podinfo"}, "invalid --chart-ref"},
		{[]string{"--source=OCIRepository/podinfo", "--chart=podinfo"}, `kind "OCIRepository" in --source`},
		{[]string{"--source=HelmRepository/", "--chart=podinfo"}, "invalid --source"},
		{[]string{"--source=HelmRepository/Bad_Name", "--chart=podinfo"}, "invalid --source"},
		{[]string{src, "--chart=./charts/podinfo"}, "invalid --chart"},
		{[]string{src, "--chart=podinfo", "--chart-version=not a range"}, "invalid --chart-version"},
		{[]string{src, "--chart=podinfo", "--reconcile-strategy=Always"}, "--reconcile-strategy"},
		{[]string{src, "--chart=podinfo", "--crds=Replace"}, `invalid --crds "Replace": must be one of: Skip, Create, CreateReplace`},
		{[]string{src, "--chart=podinfo", "--values=" + dir + "/missing.yaml"}, "--values file " + dir + "/missing.yaml does not exist"},
		{[]string{src, "--chart=podinfo", "--values=" + list}, "--values file " + list + " is not a YAML map"},
		{[]string{src, "--chart=podinfo", "--values=" + broken}, "--values file " + broken + " is not a YAML map"},
		{[]string{src, "--chart=podinfo", "--values-from=Secret"}, "invalid --values-from"},
		{[]string{src, "--chart=podinfo", "--values-from=Bucket/x"}, `kind "Bucket" in --values-from`},
		{[]string{src, "--chart=podinfo", "--release-name=" + strings.Repeat("a", 54)}, "at most 53 characters"},
		{[]string{src, "--chart=podinfo", "--target-namespace=Web"}, "invalid --target-namespace"},
		{[]string{src, "--chart=podinfo", "--storage-namespace=a.b"}, "invalid --storage-namespace"},
		{[]string{src, "--chart=podinfo", "--depends-on=a/b/c"}, "invalid --depends-on"},
		{[]string{src, "--chart=podinfo", "--chart-interval=-1m"}, "--chart-interval must be positive"},
		{[]string{src, "--chart=podinfo", "--kubeconfig-secret-ref=Bad_Name"}, "invalid --kubeconfig-secret-ref"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"create", "helmrelease", "podinfo", "--export"}, tc.args...)
			out, _, err := runFlux(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
			if out != "" {
				t.Errorf("a refused command printed:\n%s", out)
			}
		})
	}
}

// TestHelmReleaseCommands drives every verb on a HelmRelease whose
// controller (and its chart's) the test plays with answerRequests.
func TestHelmReleaseCommands(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	answerRequests(t, ns, kinds.HelmRepository(), fillChartSource)
	answerRequests(t, ns, kinds.HelmChart(), fillChartSource)
	answerRequests(t, ns, kinds.HelmRelease(), fillHelmRelease)
	answered := map[string]string{shardKey: answeredShard}
	repo := &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, Labels: answered},
		Spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com", Interval: metav1.Duration{Duration: 3600e9}}}
	if err := kube.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "base", Namespace: ns},
			Data: map[string]string{"values.yaml": "replicaCount: 1\nui:\n  color: blue\n  message: from configmap\n"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "secret", Namespace: ns},
			Data: map[string][]byte{"values.yaml": []byte("ui:\n  message: from secret\n")}},
	} {
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	values := writeFile(t, "values.yaml", []byte("replicaCount: 2\n"))

	// create waits for Ready and prints the applied revision.
	_, errOut := mustFlux(t, "", "create", "hr", "podinfo", "-n", ns, "--source=HelmRepository/podinfo", "--chart=podinfo",
		"--chart-version=6.x", "--values="+values, "--values-from=ConfigMap/base", "--values-from=Secret/secret",
		"--label="+answeredLabel, "--timeout=1m")
	wantLines(t, errOut, "► generating HelmRelease", "► applying HelmRelease", "✔ HelmRelease created",
		"◎ waiting for HelmRelease reconciliation", "✔ HelmRelease podinfo is ready", "✔ applied revision 6.5.0")
	// The HelmChart the controller would generate from spec.chart.
	chart := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Name: ns + "-podinfo", Namespace: ns, Labels: answered},
		Spec: sourcev1.HelmChartSpec{Chart: "podinfo", Version: "6.x", Interval: metav1.Duration{Duration: 3600e9},
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "podinfo"}}}
	if err := kube.Create(ctx, chart); err != nil {
		t.Fatal(err)
	}

	t.Run("get", func(t *testing.T) {
		out, _ := mustFlux(t, "", "get", "hr", "-n", ns)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME REVISION SUSPENDED READY MESSAGE" ||
			!strings.HasPrefix(strings.Join(strings.Fields(lines[1]), " "), "podinfo 6.5.0 False True") {
			t.Errorf("flux get hr:\n%s", out)
		}
		out, _ = mustFlux(t, "", "get", "helmreleases", "--show-source", "-n", ns)
		if !strings.Contains(out, "SOURCE") || !strings.Contains(out, "HelmRepository/"+ns+"/podinfo") {
			t.Errorf("flux get hr --show-source:\n%s", out)
		}
		out, _ = mustFlux(t, "", "get", "all", "-n", ns)
		if !strings.Contains(out, "helmrelease/podinfo") {
			t.Errorf("flux get all lacks the HelmRelease:\n%s", out)
		}
	})

	t.Run("export and describe", func(t *testing.T) {
		out, _ := mustFlux(t, "", "export", "hr", "podinfo", "-n", ns)
		for _, want := range []string{"kind: HelmRelease", "name: podinfo", "chart: podinfo", "version: 6.x", "replicaCount: 2"} {
			if !strings.Contains(out, want) {
				t.Errorf("flux export hr lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "status:") || strings.Contains(out, "history") {
			t.Errorf("flux export hr exports the status:\n%s", out)
		}
		out, _ = mustFlux(t, "", "describe", "helmrelease", "podinfo", "-n", ns)
		for _, want := range []string{"podinfo@6.x", "HelmRepository/" + ns + "/podinfo", ns + "/" + ns + "-podinfo", "deployed"} {
			if !strings.Contains(out, want) {
				t.Errorf("flux describe hr lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("reconcile --force --reset", func(t *testing.T) {
		_, errOut := mustFlux(t, "", "reconcile", "hr", "podinfo", "-n", ns, "--force", "--reset", "--timeout=1m")
		wantLines(t, errOut, "► annotating HelmRelease podinfo in "+ns+" namespace", "✔ HelmRelease annotated",
			"✔ HelmRelease reconciliation completed", "✔ applied revision 6.5.0")
		hr := &helmv2.HelmRelease{}
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, hr); err != nil {
			t.Fatal(err)
		}
		a := hr.Annotations
		token := a[meta.ReconcileRequestAnnotation]
		if token == "" || a[meta.ForceRequestAnnotation] != token || a[meta.ResetRequestAnnotation] != token {
			t.Errorf("requestedAt, forceAt and resetAt differ: %v", a)
		}
		if hr.Status.LastHandledForceAt != token || hr.Status.LastHandledResetAt != token {
			t.Errorf("the command returned before forceAt and resetAt were handled: %+v", hr.Status)
		}
		// A plain reconcile sets neither.
		mustFlux(t, "", "reconcile", "hr", "podinfo", "-n", ns, "--timeout=1m")
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, hr); err != nil {
			t.Fatal(err)
		}
		if hr.Annotations[meta.ForceRequestAnnotation] != token {
			t.Errorf("a plain reconcile changed forceAt: %v", hr.Annotations)
		}
	})

	t.Run("reconcile --with-source", func(t *testing.T) {
		_, errOut := mustFlux(t, "", "reconcile", "hr", "podinfo", "-n", ns, "--with-source", "--timeout=1m")
		wantLines(t, errOut, "► annotating HelmRepository podinfo in "+ns+" namespace",
			"► annotating HelmChart "+ns+"-podinfo in "+ns+" namespace", "► annotating HelmRelease podinfo in "+ns+" namespace",
			"✔ HelmRelease reconciliation completed")
		iRepo := strings.Index(errOut, "annotating HelmRepository")
		iChart := strings.Index(errOut, "annotating HelmChart")
		iRelease := strings.Index(errOut, "annotating HelmRelease")
		if !(iRepo < iChart && iChart < iRelease) {
			t.Errorf("not reconciled in the order source, chart, release:\n%s", errOut)
		}
	})

	t.Run("debug", func(t *testing.T) {
		out, errOut := mustFlux(t, "", "debug", "hr", "podinfo", "-n", ns, "--show-values")
		want := "replicaCount: 2\nui:\n  color: blue\n  message: from secret\n"
		if out != want {
			t.Errorf("flux debug hr --show-values:\n%s\nwant:\n%s", out, want)
		}
		wantLines(t, errOut, secretValuesWarning)
		out, _ = mustFlux(t, "", "debug", "hr", "podinfo", "-n", ns, "--show-status")
		if !strings.HasPrefix(out, "# Status documentation:") || !strings.Contains(out, "lastAttemptedRevision: 6.5.0") {
			t.Errorf("flux debug hr --show-status:\n%s", out)
		}
		out, _ = mustFlux(t, "", "debug", "hr", "podinfo", "-n", ns, "--show-history")
		if !strings.HasPrefix(out, "- ") || !strings.Contains(out, "chartVersion: 6.5.0") || !strings.Contains(out, "status: deployed") {
			t.Errorf("flux debug hr --show-history:\n%s", out)
		}
		if _, _, err := runFlux(t, "", "debug", "hr", "podinfo", "-n", ns, "--show-values", "--show-status"); err == nil ||
			!strings.Contains(err.Error(), "exactly one of") {
			t.Errorf("two --show flags: %v", err)
		}
		if _, _, err := runFlux(t, "", "debug", "hr", "missing", "-n", ns, "--show-status"); err == nil ||
			!strings.Contains(err.Error(), "HelmRelease "+ns+"/missing not found") {
			t.Errorf("a missing HelmRelease: %v", err)
		}
		// Values from a ConfigMap only: no warning.
		cmOnly := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns, Labels: map[string]string{shardKey: unansweredShard}},
			Spec: helmv2.HelmReleaseSpec{Interval: metav1.Duration{Duration: 3600e9},
				ChartRef:   &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: "podinfo"},
				ValuesFrom: []meta.ValuesReference{{Kind: "ConfigMap", Name: "base", ValuesKey: "values.yaml"}}}}
		if err := kube.Create(ctx, cmOnly); err != nil {
			t.Fatal(err)
		}
		out, errOut = mustFlux(t, "", "debug", "hr", "plain", "-n", ns, "--show-values")
		if out != "replicaCount: 1\nui:\n  color: blue\n  message: from configmap\n" || strings.Contains(errOut, "WARNING") {
			t.Errorf("values of a ConfigMap:\n%s\nstderr:\n%s", out, errOut)
		}
	})

	t.Run("events", func(t *testing.T) {
		recordEvent(t, ns, "chart-event", "source.toolkit.fluxcd.io/v1", "HelmChart", ns+"-podinfo", "Normal", "ChartPullSucceeded", "pulled 'podinfo' chart with version '6.5.0'")
		recordEvent(t, ns, "release-event", "helm.toolkit.fluxcd.io/v2", "HelmRelease", "podinfo", "Normal", "InstallSucceeded", "Helm install succeeded")
		recordEvent(t, ns, "other-event", "source.toolkit.fluxcd.io/v1", "HelmChart", "other", "Normal", "ChartPullSucceeded", "another chart")
		out, _ := mustFlux(t, "", "events", "--for", "HelmRelease/podinfo", "-n", ns)
		for _, want := range []string{"pulled 'podinfo' chart", "Helm install succeeded"} {
			if !strings.Contains(out, want) {
				t.Errorf("flux events --for HelmRelease/podinfo lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "another chart") {
			t.Errorf("flux events --for HelmRelease/podinfo shows another chart's events:\n%s", out)
		}
	})

	t.Run("suspend resume delete", func(t *testing.T) {
		_, errOut := mustFlux(t, "", "suspend", "hr", "podinfo", "-n", ns)
		wantLines(t, errOut, "suspending")
		hr := &helmv2.HelmRelease{}
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, hr); err != nil || !hr.Spec.Suspend {
			t.Fatalf("not suspended: %v %v", hr.Spec.Suspend, err)
		}
		if _, _, err := runFlux(t, "", "reconcile", "hr", "podinfo", "-n", ns); err == nil || !strings.Contains(err.Error(), "is suspended") {
			t.Errorf("reconcile of a suspended HelmRelease: %v", err)
		}
		_, errOut = mustFlux(t, "", "resume", "hr", "podinfo", "-n", ns, "--timeout=1m")
		wantLines(t, errOut, "✔ HelmRelease reconciliation completed", "✔ applied revision 6.5.0")
		mustFlux(t, "", "delete", "hr", "podinfo", "-n", ns, "--silent")
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, hr); !apierrors.IsNotFound(err) {
			t.Errorf("after delete: %v", err)
		}
	})
}

// TestTreeAndTraceHelmRelease: tree kustomization descends into a
// HelmRelease's inventory, and trace follows a released object to its
// HelmRelease, HelmChart and chart source.
func TestTreeAndTraceHelmRelease(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	nobody := map[string]string{shardKey: unansweredShard}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: ns, Labels: nobody},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: 3600e9}, Path: "./",
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}}}
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, Labels: nobody},
		Spec: helmv2.HelmReleaseSpec{Interval: metav1.Duration{Duration: 3600e9},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "podinfo",
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "podinfo"}}}}}
	repo := &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, Labels: nobody},
		Spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com", Interval: metav1.Duration{Duration: 3600e9}}}
	chart := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Name: ns + "-podinfo", Namespace: ns, Labels: nobody},
		Spec: sourcev1.HelmChartSpec{Chart: "podinfo", Interval: metav1.Duration{Duration: 3600e9},
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "podinfo"}}}
	released := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-config", Namespace: ns,
		Labels: map[string]string{helmv2.NameLabel: "podinfo", helmv2.NamespaceLabel: ns}}}
	for _, obj := range []client.Object{ks, hr, repo, chart, released} {
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{
		{ID: ns + "_podinfo_helm.toolkit.fluxcd.io_HelmRelease", Version: "v2"},
		{ID: ns + "_podinfo_source.toolkit.fluxcd.io_HelmRepository", Version: "v1"},
	}}
	if err := kube.Status().Update(ctx, ks); err != nil {
		t.Fatal(err)
	}
	fillHelmRelease(hr)
	hr.Status.Inventory = &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{
		{ID: ns + "_podinfo_apps_Deployment", Version: "v1"},
		{ID: ns + "_podinfo-config__ConfigMap", Version: "v1"},
	}}
	hr.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "InstallSucceeded",
		Message: "Helm install succeeded for release " + ns + "/podinfo.v1 with chart podinfo@6.5.0", LastTransitionTime: metav1.Now()}}
	if err := kube.Status().Update(ctx, hr); err != nil {
		t.Fatal(err)
	}
	fillChartSource(chart)
	if err := kube.Status().Update(ctx, chart); err != nil {
		t.Fatal(err)
	}

	out, _ := mustFlux(t, "", "tree", "kustomization", "apps", "-n", ns)
	want := "Kustomization/" + ns + "/apps\n" +
		"├── HelmRelease/" + ns + "/podinfo\n" +
		"│   ├── Deployment/" + ns + "/podinfo\n" +
		"│   └── ConfigMap/" + ns + "/podinfo-config\n" +
		"└── HelmRepository/" + ns + "/podinfo\n"
	if out != want {
		t.Errorf("flux tree ks:\n%s\nwant:\n%s", out, want)
	}
	out, _ = mustFlux(t, "", "tree", "kustomization", "apps", "-n", ns, "--compact")
	if strings.Contains(out, "Deployment") || !strings.Contains(out, "HelmRelease/"+ns+"/podinfo") {
		t.Errorf("flux tree ks --compact:\n%s", out)
	}

	out, _ = mustFlux(t, "", "trace", "configmap/podinfo-config", "-n", ns)
	for _, want := range []string{"Object:", "ConfigMap/podinfo-config", "HelmRelease:", "podinfo", "Chart:", "podinfo@*",
		"Helm install succeeded", "HelmChart:", ns + "-podinfo", "Revision:", "6.5.0", "HelmRepository:"} {
		if !strings.Contains(out, want) {
			t.Errorf("flux trace lacks %q:\n%s", want, out)
		}
	}
	iRelease, iChart, iRepo := strings.Index(out, "HelmRelease:"), strings.Index(out, "HelmChart:"), strings.Index(out, "HelmRepository:")
	if !(iRelease < iChart && iChart < iRepo) {
		t.Errorf("flux trace is not object, release, chart, source:\n%s", out)
	}
}

// TestLogsHelmRelease: logs --kind=HelmRelease keeps the helm
// controller's lines about releases.
func TestLogsHelmRelease(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	logger, err := manager.NewLogger(manager.Options{LogEncoding: "json", LogLevel: "info"})
	os.Stderr = stderr
	if err != nil {
		t.Fatal(err)
	}
	reconciler := func(kind, group, ns, name string) logr.Logger {
		return logger.WithValues("controller", strings.ToLower(kind), "controllerGroup", group, "controllerKind", kind,
			kind, map[string]string{"name": name, "namespace": ns}, "namespace", ns, "name", name)
	}
	reconciler("HelmRelease", "helm.toolkit.fluxcd.io", "apps", "podinfo").Info("release in-sync with desired state")
	reconciler("HelmChart", "source.toolkit.fluxcd.io", "apps", "apps-podinfo").Info("pulled chart")
	reconciler("HelmRelease", "helm.toolkit.fluxcd.io", "apps", "other").Error(errors.New("install failed"), "Reconciler error")
	w.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "helm-controller.log", data)
	out, _ := mustFlux(t, "", "logs", "--from-file="+file, "-A", "--kind=HelmRelease")
	got := logTimestamp.ReplaceAllString(out, "<TS> ")
	want := "<TS> info HelmRelease/podinfo.apps - release in-sync with desired state\n" +
		"<TS> error HelmRelease/other.apps - Reconciler error: install failed\n"
	if got != want {
		t.Errorf("flux logs --kind=HelmRelease:\n%s\nwant:\n%s", got, want)
	}
	out, _ = mustFlux(t, "", "logs", "--from-file="+file, "-n", "apps", "--kind=helmrelease", "--name=podinfo")
	if got := logTimestamp.ReplaceAllString(out, "<TS> "); got != "<TS> info HelmRelease/podinfo.apps - release in-sync with desired state\n" {
		t.Errorf("flux logs --kind=helmrelease --name=podinfo:\n%s", got)
	}
}
