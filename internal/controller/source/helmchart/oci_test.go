package helmchart_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// TestOCIRepository pulls charts from a HelmRepository of type oci on a
// registry with basic auth and TLS: a range over tags that holds a `+`
// version (tagged with `_`), credentials from either Secret kind, the CA
// from certSecretRef; wrong credentials and a tag that is no chart are
// refused with the previous artifact kept.
func TestOCIRepository(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{Auth: ocitest.BasicAuth, TLS: true})
	var pushed *helmtest.OCIChart
	for _, v := range []string{"1.0.0", "1.1.0+build.1", "2.0.0-rc.1"} {
		pushed = helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", v))
	}
	if pushed.Tag != "2.0.0-rc.1" {
		t.Fatalf("tag %s", pushed.Tag)
	}
	want := helmtest.ConfigMapChart("app", "1.1.0+build.1").MustPackage(t)

	ns := env.Namespace(t)
	ca := secret(t, ns, "registry-ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": reg.CAPEM})
	basic := secret(t, ns, "basic", corev1.SecretTypeOpaque, map[string][]byte{"username": []byte(reg.Username), "password": []byte(reg.Password)})
	docker := secret(t, ns, "docker", corev1.SecretTypeDockerConfigJson, map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON()})
	wrong := secret(t, ns, "wrong", corev1.SecretTypeOpaque, map[string][]byte{"username": []byte(reg.Username), "password": []byte("not-the-password")})
	url := "oci://" + reg.Host + "/charts"

	for _, tc := range []struct {
		name   string
		secret *meta.LocalObjectReference
	}{{"basic", basic}, {"dockerconfigjson", docker}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			createRepo(t, ns, tc.name, sourcev1.HelmRepositorySpec{URL: url, Type: sourcev1.HelmRepositoryTypeOCI, SecretRef: tc.secret, CertSecretRef: ca})
			obj := createChart(t, ns, tc.name, sourcev1.HelmChartSpec{Chart: "app", Version: ">=1.0.0 <2.0.0", SourceRef: fromRepo(tc.name)})
			got := waitRevision(t, obj, "1.1.0+build.1")
			checkCondition(t, got, "Ready", metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, "pulled 'app' chart with version '1.1.0+build.1'")
			if got.Status.Artifact.Digest != digest(want) {
				t.Errorf("artifact digest %s, want the pushed chart's %s", got.Status.Artifact.Digest, digest(want))
			}
			if !strings.HasPrefix(got.Status.ObservedSourceArtifactRevision, "sha256:") {
				t.Errorf("observedSourceArtifactRevision %q, want the manifest digest", got.Status.ObservedSourceArtifactRevision)
			}
		})
	}

	t.Run("wrong-credentials", func(t *testing.T) {
		t.Parallel()
		repo := createRepo(t, ns, "switched", sourcev1.HelmRepositorySpec{URL: url, Type: sourcev1.HelmRepositoryTypeOCI, SecretRef: basic, CertSecretRef: ca})
		obj := createChart(t, ns, "switched", sourcev1.HelmChartSpec{Chart: "app", Version: "1.0.0", SourceRef: fromRepo("switched")})
		kept := waitRevision(t, obj, "1.0.0").Status.Artifact
		controllertest.Update(t, kube, repo, func(o *sourcev1.HelmRepository) { o.Spec.SecretRef = wrong })
		got := waitRefused(t, obj, sourcev1.AuthenticationFailedReason, "app", kept)
		if d := controllertest.Describe(got); strings.Contains(d, "not-the-password") || strings.Contains(d, reg.Password) {
			t.Errorf("a credential in the status:\n%s", d)
		}
	})

	t.Run("tag-not-a-chart", func(t *testing.T) {
		t.Parallel()
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(reg.Host + "/charts/image:1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, helmtest.RemoteOptions(reg)...); err != nil {
			t.Fatal(err)
		}
		createRepo(t, ns, "images", sourcev1.HelmRepositorySpec{URL: url, Type: sourcev1.HelmRepositoryTypeOCI, SecretRef: basic, CertSecretRef: ca})
		obj := createChart(t, ns, "image", sourcev1.HelmChartSpec{Chart: "image", SourceRef: fromRepo("images")})
		got := waitRefused(t, obj, "ChartPullError", "not a Helm chart", nil)
		checkCondition(t, got, sourcev1.FetchFailedCondition, metav1.ConditionTrue, "ChartPullError", "image")
	})
}

// TestOCIInsecure pulls from a plain HTTP registry with spec.insecure.
func TestOCIInsecure(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", "0.1.0"))
	ns := env.Namespace(t)
	createRepo(t, ns, "plain", sourcev1.HelmRepositorySpec{URL: "oci://" + reg.Host + "/charts", Type: sourcev1.HelmRepositoryTypeOCI, Insecure: true})
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("plain")})
	waitRevision(t, obj, "0.1.0")
}

// TestOCIVerify verifies cosign signatures of OCI charts with the keys of
// spec.verify.secretRef, in both signature formats; an unsigned chart and
// one signed by another key are refused with SourceVerified=False while
// the verified artifact stays. A chart from an HTTP repository is said
// not to be verified.
func TestOCIVerify(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	trusted, stranger := newKey(t), newKey(t)
	helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", "1.0.0")).SignBundle(t, trusted)
	helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("legacy", "1.0.0")).SignLegacy(t, trusted)

	ns := env.Namespace(t)
	keys := secret(t, ns, "cosign-keys", corev1.SecretTypeOpaque, map[string][]byte{"cosign.pub": publicPEM(t, trusted)})
	createRepo(t, ns, "oci", sourcev1.HelmRepositorySpec{URL: "oci://" + reg.Host + "/charts", Type: sourcev1.HelmRepositoryTypeOCI, Insecure: true})
	verify := &sourcev1.HelmChartVerification{Provider: sourcev1.VerificationProviderCosign, SecretRef: keys}

	legacy := createChart(t, ns, "legacy", sourcev1.HelmChartSpec{Chart: "legacy", SourceRef: fromRepo("oci"), Verify: verify})
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("oci"), Verify: verify})
	got := waitRevision(t, obj, "1.0.0")
	checkCondition(t, got, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, "verified signature of version 1.0.0")
	checkCondition(t, waitRevision(t, legacy, "1.0.0"), sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, "1.0.0")
	kept := got.Status.Artifact

	helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", "1.1.0"))
	reconcileNow(t, obj, "unsigned")
	got = waitRefused(t, obj, sourcev1.VerificationErrorReason, "no cosign signature found", kept)
	checkCondition(t, got, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationErrorReason, "app:1.1.0")
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, sourcev1.VerificationErrorReason, "app:1.1.0")

	helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", "1.2.0")).SignBundle(t, stranger)
	reconcileNow(t, obj, "stranger")
	got = waitRefused(t, obj, sourcev1.VerificationErrorReason, "app:1.2.0", kept)
	checkCondition(t, got, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationErrorReason, "app:1.2.0")

	// verify on a chart that is not from OCI is not applicable.
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	readyRepo(t, ns, "http", sourcev1.HelmRepositorySpec{URL: hr.URL})
	plain := createChart(t, ns, "plain", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("http"), Verify: verify})
	got = waitRevision(t, plain, "1.0.0")
	checkCondition(t, got, sourcev1.SourceVerifiedCondition, metav1.ConditionUnknown, "VerificationNotApplicable", "not verified")
}

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicPEM(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	b, err := cosigntest.PublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOCIDependency builds a Git chart whose dependency is in an OCI
// registry with basic auth and TLS, through the same-namespace
// HelmRepository of that URL.
func TestOCIDependency(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{Auth: ocitest.BasicAuth, TLS: true})
	helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("lib", "1.0.3"))
	url := "oci://" + reg.Host + "/charts"
	ns := env.Namespace(t)
	creds := secret(t, ns, "docker", corev1.SecretTypeDockerConfigJson, map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON()})
	ca := secret(t, ns, "registry-ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": reg.CAPEM})
	createRepo(t, ns, "registry", sourcev1.HelmRepositorySpec{URL: url, Type: sourcev1.HelmRepositoryTypeOCI, SecretRef: creds, CertSecretRef: ca})

	umbrella := helmtest.ConfigMapChart("umbrella", "0.1.0").Dependency(helmtest.Dependency{Name: "lib", Version: "1.0.x", Repository: url})
	newGitSource(t, ns, "git", gitFiles(t, "umbrella", umbrella))
	obj := createChart(t, ns, "umbrella", sourcev1.HelmChartSpec{Chart: "umbrella", SourceRef: fromGit("git")})
	got := waitRevision(t, obj, "0.1.0")
	data, _ := download(t, got.Status.Artifact.URL)
	if !strings.Contains(chartFiles(t, data)["umbrella/charts/lib/Chart.yaml"], "version: 1.0.3") {
		t.Fatalf("the OCI dependency is not in the packaged chart")
	}
}
