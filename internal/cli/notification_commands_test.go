package cli

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func TestCreateNotificationExport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create/alert-provider-slack.yaml", []string{"create", "alert-provider", "slack", "-n", "flux-system",
			"--type=slack", "--channel=general", "--username=flux", "--secret-ref=webhook-url", "--label=team=ops", "--export"}},
		{"create/alert-provider-generic.yaml", []string{"create", "alert-provider", "hook", "-n", "apps",
			"--type=Generic", "--address=https://hooks.example.com/flux", "--export"}},
		{"create/alert-sources.yaml", []string{"create", "alert", "errors", "-n", "flux-system", "--provider-ref=slack",
			"--event-severity=error", "--event-source=Kustomization/*,gitrepository/flux-system",
			"--event-source=HelmRelease/podinfo.apps", "--event-source=OCIRepository/infra/manifests",
			"--inclusion-list=.*reconciliation.*", "--exclusion-list=staging", "--label=team=ops", "--export"}},
		{"create/alert-minimal.yaml", []string{"create", "alert", "all", "-n", "flux-system", "--provider-ref=slack",
			"--event-source=Kustomization/flux-system", "--export"}},
		{"create/receiver-github.yaml", []string{"create", "receiver", "github-receiver", "-n", "flux-system", "--type=github",
			"--event=ping,push", "--secret-ref=webhook-token", "--resource=GitRepository/webapp",
			"--resource=Kustomization/apps.tenants", "--label=team=ops", "--export"}},
		{"create/receiver-interval.yaml", []string{"create", "receiver", "hook", "-n", "apps", "--type=generic-hmac",
			"--secret-ref=token", "--resource=HelmRelease/podinfo", "--interval=30m", "--export"}},
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

// TestCreateNotificationBadFlags: each mistake is refused with a message
// that names the flag and the problem, and nothing is created.
func TestCreateNotificationBadFlags(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"alert-provider", "p"}, "provider type is required"},
		{[]string{"alert-provider", "p", "--type=pigeon"}, `invalid --type "pigeon": must be one of slack, discord`},
		{[]string{"alert-provider", "p", "--type=slack", "--address=hooks.example.com/T0/secret"}, "invalid --address: the address is not an absolute URL"},
		{[]string{"alert-provider", "p", "--type=slack", "--secret-ref=Bad_Name"}, `invalid --secret-ref "Bad_Name"`},
		{[]string{"alert", "a", "--event-source=Kustomization/x"}, "provider ref is required"},
		{[]string{"alert", "a", "--provider-ref=slack"}, "at least one event source is required"},
		{[]string{"alert", "a", "--provider-ref=slack", "--event-source=podinfo"}, `invalid --event-source "podinfo": no kind`},
		{[]string{"alert", "a", "--provider-ref=slack", "--event-source=Deployment/podinfo"}, `invalid --event-source kind "Deployment": must be one of Bucket, GitRepository`},
		{[]string{"alert", "a", "--provider-ref=slack", "--event-source=Kustomization/"}, `invalid --event-source "Kustomization/": no name`},
		{[]string{"alert", "a", "--provider-ref=slack", "--event-source=Kustomization/a/b/c"}, "no kind"},
		{[]string{"alert", "a", "--provider-ref=slack", "--event-source=Kustomization/x", "--event-severity=warning"}, `invalid --event-severity "warning": must be one of info, error`},
		{[]string{"alert", "a", "--provider-ref=slack", "--event-source=Kustomization/x", "--inclusion-list=(unclosed"}, `--inclusion-list[0] "(unclosed" does not compile`},
		{[]string{"alert", "a", "--provider-ref=slack", "--event-source=Kustomization/x", "--exclusion-list=ok", "--exclusion-list=[z-a]"}, `--exclusion-list[1] "[z-a]" does not compile`},
		{[]string{"receiver", "r", "--secret-ref=t", "--resource=GitRepository/x"}, "receiver type is required"},
		{[]string{"receiver", "r", "--type=svn", "--secret-ref=t", "--resource=GitRepository/x"}, `invalid --type "svn": must be one of generic, generic-hmac`},
		{[]string{"receiver", "r", "--type=github", "--resource=GitRepository/x"}, "secret ref is required"},
		{[]string{"receiver", "r", "--type=github", "--secret-ref=t"}, "at least one resource is required"},
		{[]string{"receiver", "r", "--type=github", "--secret-ref=t", "--resource=GitRepository/*"}, "name * needs matchLabels"},
		{[]string{"receiver", "r", "--type=generic-oidc", "--resource=GitRepository/x"}, "needs spec.oidcProviders"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append([]string{"create", "-n", ns}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want an error containing %q, got %v", tc.wantErr, err)
			}
			if strings.Contains(err.Error(), "secret") && strings.Contains(tc.wantErr, "address") {
				t.Errorf("the error quotes the address: %v", err)
			}
		})
	}
	for _, list := range []client.ObjectList{&v1beta3.AlertList{}, &v1beta3.ProviderList{}, &notificationv1.ReceiverList{}} {
		if err := kube.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if items, _ := metaItems(list); items > 0 {
			t.Errorf("a refused create left %d objects of %T", items, list)
		}
	}
}

func metaItems(list client.ObjectList) (int, error) {
	switch l := list.(type) {
	case *v1beta3.AlertList:
		return len(l.Items), nil
	case *v1beta3.ProviderList:
		return len(l.Items), nil
	case *notificationv1.ReceiverList:
		return len(l.Items), nil
	}
	return 0, nil
}

// tableRow is the line of out whose first column is name.
func tableRow(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return line
		}
	}
	t.Fatalf("no row %q in\n%s", name, out)
	return ""
}

func flux(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := runFlux(t, "", args...)
	if err != nil {
		t.Fatalf("flux %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out, errOut
}

// TestAlertsTellTheTruth: `get alerts` derives Ready from the Provider and
// its Secret: False naming what is missing or suspended, True once all is
// there; `get alert-providers` likewise; describe shows the same.
func TestAlertsTellTheTruth(t *testing.T) {
	ns := env.Namespace(t)
	_, errOut := flux(t, "-n", ns, "create", "alert", "errors", "--provider-ref=slack", "--event-source=Kustomization/*")
	if !strings.Contains(errOut, `Alert errors is not ready: Provider "slack" of spec.providerRef not found`) {
		t.Errorf("create alert before its Provider does not say it is not ready:\n%s", errOut)
	}
	out, _ := flux(t, "-n", ns, "get", "alerts")
	if row := tableRow(t, out, "errors"); !regexp.MustCompile(`False\s+False\s+Provider "slack" of spec.providerRef not found in namespace`).MatchString(row) {
		t.Errorf("get alerts with the Provider missing:\n%s", out)
	}
	out, _ = flux(t, "-n", ns, "get", "alerts", "--status-selector", "ready=false", "--no-header")
	if !strings.HasPrefix(out, "errors ") {
		t.Errorf("--status-selector ready=false does not select the alert:\n%s", out)
	}

	flux(t, "-n", ns, "create", "alert-provider", "slack", "--type=slack", "--channel=general", "--secret-ref=slack-url")
	out, _ = flux(t, "-n", ns, "get", "alert-providers")
	if row := tableRow(t, out, "slack"); !strings.Contains(row, `False`) || !strings.Contains(row, `Secret "slack-url" of spec.secretRef not found`) {
		t.Errorf("get alert-providers with the Secret missing:\n%s", out)
	}
	out, _ = flux(t, "-n", ns, "get", "alerts")
	if row := tableRow(t, out, "errors"); !strings.Contains(row, `Provider "slack" is not ready: Secret "slack-url"`) {
		t.Errorf("get alerts with the Provider's Secret missing:\n%s", out)
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "slack-url", Namespace: ns},
		StringData: map[string]string{"address": "https://hooks.slack.example/T0/B0/XXXX"}}
	if err := kube.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	out, _ = flux(t, "-n", ns, "get", "alerts")
	if row := tableRow(t, out, "errors"); !regexp.MustCompile(`False\s+True\s+Alert is Ready: Provider "slack" is ready`).MatchString(row) {
		t.Errorf("get alerts with everything in place:\n%s", out)
	}
	out, _ = flux(t, "-n", ns, "get", "all")
	for _, want := range []string{"provider/slack", "alert/errors"} {
		if !strings.Contains(out, want) {
			t.Errorf("get all lacks %s:\n%s", want, out)
		}
	}
	out, _ = flux(t, "-n", ns, "get", "alert-providers", "-o", "wide")
	if row := tableRow(t, out, "slack"); !strings.Contains(row, "slack") || !strings.Contains(row, "general") {
		t.Errorf("get alert-providers -o wide lacks type and channel:\n%s", out)
	}

	flux(t, "-n", ns, "suspend", "alert-provider", "slack")
	out, _ = flux(t, "-n", ns, "get", "alerts")
	if row := tableRow(t, out, "errors"); !strings.Contains(row, `Provider "slack" is suspended`) {
		t.Errorf("get alerts with the Provider suspended:\n%s", out)
	}
	out, _ = flux(t, "-n", ns, "get", "alert-providers")
	if row := tableRow(t, out, "slack"); !regexp.MustCompile(`slack\s+True\s+True`).MatchString(row) {
		t.Errorf("get alert-providers does not show the Provider suspended:\n%s", out)
	}
	flux(t, "-n", ns, "resume", "alert-provider", "slack")
	p := &v1beta3.Provider{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "slack"}, p); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Annotations[meta.ReconcileRequestAnnotation]; ok || p.Spec.Suspend {
		t.Errorf("resume alert-provider: suspend %v, annotations %v (no controller reads a reconcile request)", p.Spec.Suspend, p.Annotations)
	}
	out, _ = flux(t, "-n", ns, "describe", "alert", "errors")
	for _, want := range []string{"Provider:", "slack", "Event Sources:", "Kustomization/*", "Readiness (derived", `Alert is Ready: Provider "slack" is ready`} {
		if !strings.Contains(out, want) {
			t.Errorf("describe alert lacks %q:\n%s", want, out)
		}
	}

	out, _ = flux(t, "-n", ns, "export", "alert-provider", "slack", "--with-credentials")
	if !strings.Contains(out, "kind: Provider") || !strings.Contains(out, "kind: Secret") || strings.Contains(out, "suspend") {
		t.Errorf("export alert-provider --with-credentials:\n%s", out)
	}
	if _, _, err := runFlux(t, "", "-n", ns, "reconcile", "alert", "errors"); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("reconcile alert (Flux has none, Alerts are static): %v", err)
	}
	flux(t, "-n", ns, "delete", "alert", "errors", "--silent")
	if out, _ := flux(t, "-n", ns, "get", "alerts", "--no-header"); out != "" {
		t.Errorf("the alert is still there after delete:\n%s", out)
	}
}

// TestReceiverCommands: create receiver waits until the controller made the
// Receiver Ready and prints its webhook path; get and describe show it;
// reconcile and resume wait for the controller; an alert on a regex that
// the API accepts but Go does not compile reads False.
func TestReceiverCommands(t *testing.T) {
	ns := env.Namespace(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "webhook-token", Namespace: ns},
		StringData: map[string]string{"token": "s3cr3t-t0ken"}}
	if err := kube.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	_, errOut := flux(t, "-n", ns, "--timeout=1m", "create", "receiver", "github-receiver", "--type=github",
		"--event=ping,push", "--secret-ref=webhook-token", "--resource=GitRepository/webapp")
	m := regexp.MustCompile(`✔ generated webhook URL (/hook/[0-9a-f]{64})\n`).FindStringSubmatch(errOut)
	if m == nil || !strings.Contains(errOut, "✔ Receiver github-receiver is ready") {
		t.Fatalf("create receiver does not wait for Ready and print the webhook path:\n%s", errOut)
	}
	path := m[1]
	r := &notificationv1.Receiver{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "github-receiver"}, r); err != nil {
		t.Fatal(err)
	}
	if r.Status.WebhookPath != path || r.Spec.Resources[0].APIVersion != "source.toolkit.fluxcd.io/v1" {
		t.Errorf("printed %s, status says %s; resources %+v", path, r.Status.WebhookPath, r.Spec.Resources)
	}
	out, _ := flux(t, "-n", ns, "get", "receivers")
	if row := tableRow(t, out, "github-receiver"); !strings.Contains(row, "True") || !strings.Contains(row, path) {
		t.Errorf("get receivers does not show Ready and the path:\n%s", out)
	}
	out, _ = flux(t, "-n", ns, "get", "receivers", "-o", "wide")
	if row := tableRow(t, out, "github-receiver"); !strings.Contains(row, "github") || !strings.HasSuffix(strings.TrimSpace(row), path) {
		t.Errorf("get receivers -o wide lacks TYPE and WEBHOOK PATH:\n%s", out)
	}
	out, _ = flux(t, "-n", ns, "describe", "receiver", "github-receiver")
	for _, want := range []string{"Webhook Path:", path, "Events:", "ping, push", "GitRepository/webapp"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe receiver lacks %q:\n%s", want, out)
		}
	}
	_, errOut = flux(t, "-n", ns, "--timeout=1m", "reconcile", "receiver", "github-receiver")
	if !strings.Contains(errOut, "✔ Receiver reconciliation completed") {
		t.Errorf("reconcile receiver:\n%s", errOut)
	}
	flux(t, "-n", ns, "suspend", "receiver", "github-receiver")
	out, _ = flux(t, "-n", ns, "get", "receivers")
	if row := tableRow(t, out, "github-receiver"); !regexp.MustCompile(`github-receiver\s+True`).MatchString(row) {
		t.Errorf("get receivers does not show it suspended:\n%s", out)
	}
	_, errOut = flux(t, "-n", ns, "--timeout=1m", "resume", "receiver", "github-receiver")
	if !strings.Contains(errOut, "✔ Receiver reconciliation completed") {
		t.Errorf("resume receiver does not wait for the controller:\n%s", errOut)
	}

	// A missing token Secret: the controller's TokenNotFound, not Ready.
	_, _, err := runFlux(t, "", "-n", ns, "--timeout=20s", "create", "receiver", "no-token", "--type=generic",
		"--secret-ref=absent", "--resource=Kustomization/apps")
	if err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("create receiver with a missing Secret: want a failure naming it, got %v", err)
	}
}

// TestTriggerReceiver: `flux trigger receiver` computes the path and the
// signature the real webhook server checks: a signed request annotates
// the resource; a wrong token finds no Receiver, a wrong signature is
// refused, and neither annotates anything.
func TestTriggerReceiver(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hook-token", Namespace: ns},
		StringData: map[string]string{"token": "tr1gger-t0ken"}}
	repo := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "webapp", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: "https://git.example/webapp.git", Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}
	for _, o := range []client.Object{secret, repo} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	flux(t, "-n", ns, "--timeout=1m", "create", "receiver", "ci", "--type=generic-hmac",
		"--secret-ref=hook-token", "--resource=GitRepository/webapp")
	requested := func() string {
		t.Helper()
		got := &sourcev1.GitRepository{}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(repo), got); err != nil {
			t.Fatal(err)
		}
		return got.Annotations[meta.ReconcileRequestAnnotation]
	}
	base := "http://" + receiverAddr

	_, _, err := runFlux(t, "", "-n", ns, "trigger", "receiver", "ci", "--type=generic-hmac", "--token=wrong", "--url="+base, "--retries=0")
	if err == nil || !strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "/hook/") {
		t.Errorf("a wrong token: want a 404 that does not print the path, got %v", err)
	}
	// The server finds Receivers by path in its own cache, which may see
	// the Ready status a moment after the command did: 404 until then.
	testcluster.Eventually(t, 30*time.Second, "an unsigned request to a generic-hmac Receiver refused with 400", func() (bool, error) {
		_, _, err := runFlux(t, "", "-n", ns, "trigger", "receiver", "ci", "--type=generic", "--token=tr1gger-t0ken", "--url="+base, "--retries=0")
		switch {
		case err == nil:
			return false, fmt.Errorf("an unsigned request to a generic-hmac Receiver was accepted")
		case strings.Contains(err.Error(), "404"):
			return false, nil
		case !strings.Contains(err.Error(), "400"):
			return false, fmt.Errorf("an unsigned request to a generic-hmac Receiver: want 400, got %v", err)
		}
		return true, nil
	})
	if v := requested(); v != "" {
		t.Fatalf("a refused request annotated the resource: %q", v)
	}

	_, errOut := flux(t, "-n", ns, "trigger", "receiver", "ci", "--type=generic-hmac", "--token=tr1gger-t0ken",
		"--url="+base+"/", "--payload", `{"image":"ghcr.io/org/app:v1.0.0"}`)
	if !strings.Contains(errOut, "✔ Receiver "+ns+"/ci triggered") {
		t.Errorf("trigger receiver output:\n%s", errOut)
	}
	// The server may coalesce the patch: wait for it, bounded.
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "the GitRepository annotated by the receiver",
		func(r *sourcev1.GitRepository) bool { return r.Annotations[meta.ReconcileRequestAnnotation] != "" })

	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--token=x"}, "--url must be the http(s) base URL"},
		{[]string{"--token=x", "--url=ftp://h"}, "--url must be the http(s) base URL"},
		{[]string{"--url=" + base}, "--token is required for a generic Receiver"},
		{[]string{"--token=x", "--url=" + base, "--type=github"}, `invalid --type "github": must be one of generic, generic-hmac, generic-oidc`},
		{[]string{"--token=x", "--url=" + base, "--payload={"}, "--payload is not valid JSON"},
		{[]string{"--url=" + base, "--type=generic-oidc"}, "needs --oidc-token or --oidc-provider=github"},
		{[]string{"--url=" + base, "--type=generic-oidc", "--oidc-provider=github"}, "works in a GitHub Actions job"},
	} {
		_, _, err := runFlux(t, "", append([]string{"-n", ns, "trigger", "receiver", "ci"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: want an error containing %q, got %v", tc.args, tc.wantErr, err)
		}
	}
}

// TestReceiverPathMatchesController: the path trigger computes is the one
// the controller writes (the same inputs give the same digest).
func TestReceiverPathMatchesController(t *testing.T) {
	if got, want := receiverPath("tok", "name", "ns"), "/hook/"+sha256Hex([]byte("toknamens")); got != want {
		t.Errorf("receiverPath = %s, want %s", got, want)
	}
}

var hookRE = regexp.MustCompile(`/hook/[0-9a-f]{64}`)

// TestNotificationTables: the tables of the three kinds, in get all and
// with -o wide (no REVISION column: they have none, as in Flux's), and a
// watch that prints an Alert's row again when its Provider appears.
func TestNotificationTables(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	for _, o := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "token", Namespace: ns}, StringData: map[string]string{"token": "t"}},
		&v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: ns},
			Spec: v1beta3.ProviderSpec{Type: "generic-hmac", Address: "https://hooks.example.com/flux", SecretRef: &meta.LocalObjectReference{Name: "token"}}},
		&v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "errors", Namespace: ns},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "hook"}, EventSeverity: "error",
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "*"}, {Kind: "GitRepository", Name: "repo", Namespace: "infra"}}}},
		&v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: ns},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "gone"},
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "HelmRelease", Name: "podinfo"}}}},
	} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	flux(t, "-n", ns, "--timeout=1m", "create", "receiver", "ci", "--type=generic", "--secret-ref=token", "--resource=GitRepository/repo")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"get/notification-all.txt", []string{"get", "all"}},
		{"get/alerts-wide.txt", []string{"get", "alerts", "-o", "wide"}},
		{"get/alert-providers-wide.txt", []string{"get", "alert-providers", "-o", "wide"}},
		{"get/receivers-wide.txt", []string{"get", "receivers", "-o", "wide"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _ := flux(t, append([]string{"-n", ns}, tc.args...)...)
			checkGolden(t, tc.golden, hookRE.ReplaceAllString(normalise(out, ns), "/hook/<digest>"))
		})
	}

	// -w: the orphan's row, False, then True once it names the Provider.
	var out syncBuffer
	f := NewFactory(strings.NewReader(""), &out, &out)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs([]string{"--kubeconfig", env.Kubeconfig(), "-n", ns, "get", "alerts", "orphan", "-w", "--no-header"})
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(wctx) }()
	testcluster.Eventually(t, 30*time.Second, "the first row", func() (bool, error) {
		return strings.Contains(out.String(), `Provider "gone" of spec.providerRef not found`), nil
	})
	controllertest.Patch(t, kube, &v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: ns}},
		`{"spec":{"providerRef":{"name":"hook"}}}`)
	testcluster.Eventually(t, 30*time.Second, "a True row for the change", func() (bool, error) {
		return strings.Contains(out.String(), `Alert is Ready: Provider "hook" is ready`), nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch ended with %v", err)
	}
}
