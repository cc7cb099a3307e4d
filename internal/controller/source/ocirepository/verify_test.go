package ocirepository_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
)

// TestVerify follows a semver range through signed and unsigned releases in
// each of cosign's formats: a release signed by the second of two trusted
// keys is stored with SourceVerified=True; one signed by an unknown key, or
// not at all, is refused with SourceVerified=False VerificationError while
// the verified artifact stays served; signing it later lets the next pass
// verify again and store it.
func TestVerify(t *testing.T) {
	formats := []struct {
		name, format string
		noReferrers  bool
	}{
		{"bundle-referrers-api", "bundle", false},
		{"bundle-referrers-tag", "bundle", true},
		{"legacy", "legacy", false},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			reg := newRegistry(t, regOptions{noReferrers: f.noReferrers})
			trusted, other, stranger := newKey(t), newKey(t), newKey(t)
			d1 := reg.pushFiles(t, "app", "1.0.0", map[string]string{"v": "1.0.0"}, nil)
			reg.sign(t, "app", d1, trusted, f.format)
			ns := env.Namespace(t)
			keys := secret(t, ns, "cosign-keys", map[string][]byte{"a-other.pub": publicPEM(t, other), "b-trusted.pub": publicPEM(t, trusted)})
			obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Insecure: true,
				Reference: &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0"},
				Verify:    &sourcev1.OCIRepositoryVerification{Provider: sourcev1.VerificationProviderCosign, SecretRef: keys}})
			got := waitRevision(t, obj, "1.0.0@"+d1)
			if c := condition(got, sourcev1.SourceVerifiedCondition); c == nil || c.Status != metav1.ConditionTrue ||
				c.Reason != meta.SucceededReason || !strings.Contains(c.Message, "1.0.0@"+d1) {
				t.Fatalf("SourceVerified %+v", c)
			}
			verified := got.Status.Artifact

			d2 := reg.pushFiles(t, "app", "1.1.0", map[string]string{"v": "1.1.0"}, nil)
			reg.sign(t, "app", d2, stranger, f.format)
			controllertest.RequestReconcile(t, kube, obj, "stranger")
			got = refusedVerification(t, obj, verified, "1.1.0@"+d2, "no signature verifies")

			d3 := reg.pushFiles(t, "app", "1.2.0", map[string]string{"v": "1.2.0"}, nil)
			controllertest.RequestReconcile(t, kube, obj, "unsigned")
			refusedVerification(t, obj, verified, "1.2.0@"+d3, "no cosign signature found")
			controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, sourcev1.VerificationErrorReason, "1.2.0@"+d3)

			reg.sign(t, "app", d3, trusted, f.format)
			controllertest.RequestReconcile(t, kube, obj, "signed")
			got = waitRevision(t, obj, "1.2.0@"+d3)
			if c := condition(got, sourcev1.SourceVerifiedCondition); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, d3) {
				t.Errorf("SourceVerified after signing %+v", c)
			}
		})
	}
}

// refusedVerification waits for the failed verification of revision and
// checks the verified artifact is still recorded and served.
func refusedVerification(t *testing.T, obj *sourcev1.OCIRepository, verified *meta.Artifact, revision, why string) *sourcev1.OCIRepository {
	t.Helper()
	got := controllertest.WaitFor(t, kube, clientKey(obj), "verification of "+revision+" refused", func(o *sourcev1.OCIRepository) bool {
		c := reconcile.Get(o, sourcev1.SourceVerifiedCondition)
		// The pass that refuses it first marks SourceVerified, then ends
		// with Ready: wait for the end, not the status patch between.
		r := reconcile.Get(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, revision) &&
			r != nil && r.Status != metav1.ConditionUnknown && o.Status.ObservedGeneration == o.Generation
	})
	controllertest.AssertKStatus(t, got)
	c := condition(got, sourcev1.SourceVerifiedCondition)
	ready := condition(got, meta.ReadyCondition)
	if c.Reason != sourcev1.VerificationErrorReason || ready.Status != metav1.ConditionFalse || ready.Reason != sourcev1.VerificationErrorReason {
		t.Errorf("SourceVerified %s, Ready %s %s", c.Reason, ready.Status, ready.Reason)
	}
	if !strings.Contains(c.Message, why) {
		t.Errorf("SourceVerified message %q does not say %q", c.Message, why)
	}
	if a := got.Status.Artifact; a.Digest != verified.Digest || a.Revision != verified.Revision || !served(t, a) {
		t.Errorf("the verified artifact was replaced or is not served: %+v", a)
	}
	if c := condition(got, sourcev1.ArtifactOutdatedCondition); c == nil || !strings.Contains(c.Message, revision) {
		t.Errorf("ArtifactOutdated %+v", c)
	}
	return got
}

// TestVerifyUnsupported: keyless cosign, a custom trusted root and notation
// stall, saying they are not supported yet and what works instead.
func TestVerifyUnsupported(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	reg.pushFiles(t, "app", "latest", map[string]string{"v": "1"}, nil)
	ns := env.Namespace(t)
	keys := secret(t, ns, "keys", map[string][]byte{"cosign.pub": publicPEM(t, newKey(t))})
	cases := map[string]*sourcev1.OCIRepositoryVerification{
		"keyless": {Provider: sourcev1.VerificationProviderCosign,
			MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{{Issuer: "^https://token.actions.githubusercontent.com$", Subject: ".*"}}},
		"trusted-root": {Provider: sourcev1.VerificationProviderCosign, SecretRef: keys, TrustedRootSecretRef: &meta.LocalObjectReference{Name: "root"}},
		"notation":     {Provider: sourcev1.VerificationProviderNotation, SecretRef: keys},
	}
	for name, v := range cases {
		obj := create(t, ns, name, sourcev1.OCIRepositorySpec{URL: reg.url("app"), Insecure: true, Verify: v})
		got := controllertest.WaitNotReady(t, kube, obj, sourcev1.VerificationErrorReason)
		if !reconcile.IsTrue(got, meta.StalledCondition) {
			t.Errorf("%s: not stalled:\n%s", name, controllertest.Describe(got))
		}
		msg := condition(got, sourcev1.SourceVerifiedCondition).Message
		if !strings.Contains(msg, "not supported yet") || !strings.Contains(msg, "cosign sign --key") {
			t.Errorf("%s: message %q", name, msg)
		}
		if got.Status.Artifact != nil {
			t.Errorf("%s: an unverified artifact was stored", name)
		}
	}
}
