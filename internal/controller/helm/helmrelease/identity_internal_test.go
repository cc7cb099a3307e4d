package helmrelease

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/scheme"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/clientcache"
	"github.com/driftless/driftless/internal/reconcile"
)

func fakeClient(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func remoteKubeconfig(token string) []byte {
	return []byte(`apiVersion: v1
kind: Config
current-context: remote
contexts: [{name: remote, context: {cluster: remote, user: tenant}}]
clusters: [{name: remote, cluster: {server: "https://remote.example:6443"}}]
users: [{name: tenant, user: {token: ` + token + `}}]
`)
}

func helmRelease(name, sa string, kubeconfig string) *helmv2.HelmRelease {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
		Spec: helmv2.HelmReleaseSpec{ServiceAccountName: sa}}
	if kubeconfig != "" {
		hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: kubeconfig}}
	}
	return hr
}

// targetOf runs the target step for hr and returns its State.
func targetOf(t *testing.T, r *Reconciler, hr *helmv2.HelmRelease) *State {
	t.Helper()
	st := &State{}
	if err := r.target(context.Background(), hr, nil, st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Two HelmReleases of one identity share one Target, hence one discovery
// client; another identity gets its own; a rotated kubeconfig Secret is a
// new identity; and the cache bound holds.
func TestReleasesOfOneIdentityShareOneTarget(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "remote"},
		Data: map[string][]byte{"value": remoteKubeconfig("token-one")}}
	c := fakeClient(t, secret)
	r := &Reconciler{Client: c, APIReader: c, Config: &rest.Config{Host: "https://127.0.0.1:1"},
		Identities: clientcache.Options{MaxEntries: 3}}

	a, b := targetOf(t, r, helmRelease("a", "deploy", "")), targetOf(t, r, helmRelease("b", "deploy", ""))
	if a.target != b.target {
		t.Error("two releases of one ServiceAccount got two Targets")
	}
	if n := a.target.Stats().DiscoveryClients; n != 1 || r.identities.Builds() != 1 {
		t.Errorf("%d discovery clients in %d Targets, want 1 in 1", n, r.identities.Builds())
	}
	if other := targetOf(t, r, helmRelease("c", "other", "")); other.target == a.target {
		t.Error("another ServiceAccount shares the Target")
	}

	remote := targetOf(t, r, helmRelease("far", "deploy", "remote"))
	if remote.identity.config.Host != "https://remote.example:6443" ||
		remote.identity.config.Impersonate.UserName != "system:serviceaccount:team:deploy" {
		t.Errorf("remote config %s as %q", remote.identity.config.Host, remote.identity.config.Impersonate.UserName)
	}
	if again := targetOf(t, r, helmRelease("far", "deploy", "remote")); again.target != remote.target {
		t.Error("the same kubeconfig built a second Target")
	}
	secret.Data["value"] = remoteKubeconfig("token-two")
	if err := c.Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	rotated := targetOf(t, r, helmRelease("far", "deploy", "remote"))
	if rotated.target == remote.target || rotated.identity.config.BearerToken != "token-two" {
		t.Error("a rotated kubeconfig kept the old clients")
	}
	if n := r.identities.Len(); n != 3 {
		t.Errorf("%d identities kept, want the bound 3", n)
	}
}

// spec.chartRef to an ExternalArtifact of another namespace stalls under
// --no-cross-namespace-refs, before anything is read.
func TestForeignExternalArtifactStallsWithoutCrossNamespaceRefs(t *testing.T) {
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "chart"},
		Status: sourcev1.ExternalArtifactStatus{Artifact: &meta.Artifact{URL: "http://storage/x.tgz", Revision: "1.0.0"}}}
	r := &Reconciler{Client: fakeClient(t, ea), NoCrossNamespaceRefs: true}
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"}, Spec: helmv2.HelmReleaseSpec{
		ChartRef: &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "chart", Namespace: "other"}}}
	_, err := r.chartRef(context.Background(), hr)
	var stalled *reconcile.StallingError
	if !errors.As(err, &stalled) || stalled.Reason != meta.AccessDeniedReason || !strings.Contains(err.Error(), "namespace 'other'") {
		t.Errorf("error %v, want an AccessDenied stall naming the namespace", err)
	}
	r.NoCrossNamespaceRefs = false
	if src, err := r.chartRef(context.Background(), hr); err != nil || src.GetArtifact().Revision != "1.0.0" {
		t.Errorf("allowed: %v %v", src, err)
	}
}
