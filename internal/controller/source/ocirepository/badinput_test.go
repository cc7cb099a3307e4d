package ocirepository_test

import (
	"archive/tar"
	"crypto/rand"
	"net"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/tartest"
)

// TestBadInput changes a Ready OCIRepository to each bad input of the
// issue that the controller meets: Ready=False with Flux's reason and a
// message naming the registry, the repository, the tag (or digest, range)
// and what was expected, a Warning event, Stalled only where nothing but a
// spec change can help, and the previous artifact still recorded and
// served.
func TestBadInput(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	key, stranger := newKey(t), newKey(t)
	good := reg.pushFiles(t, "app", "1.0.0", map[string]string{"v": "1.0.0"}, nil)
	reg.sign(t, "app", good, key, "bundle")
	reg.pushFiles(t, "app", "unsigned", map[string]string{"v": "unsigned"}, nil)
	copied := reg.pushFiles(t, "app", "copied-signature", map[string]string{"v": "copied"}, nil)
	goodHash, _ := v1.NewHash(good)
	reg.sign(t, "app", copied, key, "legacy", cosigntest.WithClaimedDigest(goodHash))

	layer := func(tag string, b []byte) {
		reg.push(t, "app", tag, fluxImage(t, nil, staticLayer(b, oci.ContentMediaType)))
	}
	layer("not-gzip", []byte("plain text, not a tarball"))
	huge := make([]byte, maxArtifactSize+1024)
	if _, err := rand.Read(huge); err != nil {
		t.Fatal(err)
	}
	layer("too-large", huge)
	layer("gzip-bomb", tartest.TarGz(t, tartest.Entry{Name: "zeros", Zeros: 5 * maxArtifactSize}))
	layer("dotdot", tartest.TarGz(t, tartest.Entry{Name: "ok.yaml", Content: "a"}, tartest.Entry{Name: "../x", Content: "escape"}))
	layer("absolute", tartest.TarGz(t, tartest.Entry{Name: "/etc/x", Content: "escape"}))
	layer("hardlink", tartest.TarGz(t, tartest.Entry{Name: "passwd", Type: tar.TypeLink, Linkname: "../../../etc/passwd"}))
	layer("device", tartest.TarGz(t, tartest.Entry{Name: "dev", Type: tar.TypeChar}))

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := closed.Addr().String()
	closed.Close()

	ns := env.Namespace(t)
	keys := secret(t, ns, "keys", map[string][]byte{"cosign.pub": publicPEM(t, key)})
	strangerKeys := secret(t, ns, "stranger-keys", map[string][]byte{"cosign.pub": publicPEM(t, stranger)})
	noPub := secret(t, ns, "no-pub", map[string][]byte{"cosign.key": []byte("not a public key")})
	badKey := secret(t, ns, "bad-key", map[string][]byte{"cosign.pub": []byte("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n")})
	secret(t, ns, "not-docker", map[string][]byte{"token": []byte("x")})
	cosignWith := func(ref *meta.LocalObjectReference) *sourcev1.OCIRepositoryVerification {
		return &sourcev1.OCIRepositoryVerification{Provider: sourcev1.VerificationProviderCosign, SecretRef: ref}
	}
	tag := func(s string) func(*sourcev1.OCIRepository) {
		return func(o *sourcev1.OCIRepository) { o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: s} }
	}

	cases := []struct {
		name    string
		mutate  func(*sourcev1.OCIRepository)
		reason  string
		stalled bool
		host    string
		want    []string
	}{
		{name: "unreachable", mutate: func(o *sourcev1.OCIRepository) { o.Spec.URL = "oci://" + unreachable + "/app" },
			reason: sourcev1.OCIPullFailedReason, host: unreachable, want: []string{`"1.0.0"`, "unreachable"}},
		{name: "tag-not-found", mutate: tag("nope"), reason: sourcev1.OCIPullFailedReason, want: []string{`"nope"`, "tag not found"}},
		{name: "semver-no-match", mutate: func(o *sourcev1.OCIRepository) { o.Spec.Reference = &sourcev1.OCIRepositoryRef{SemVer: ">=5.0.0"} },
			reason: sourcev1.OCIPullFailedReason, want: []string{`">=5.0.0"`, "tags seen", "the highest 1.0.0"}},
		{name: "bad-range", mutate: func(o *sourcev1.OCIRepository) { o.Spec.Reference = &sourcev1.OCIRepositoryRef{SemVer: "one point oh"} },
			reason: sourcev1.OCIPullFailedReason, stalled: true, want: []string{"one point oh"}},
		{name: "bad-filter", mutate: func(o *sourcev1.OCIRepository) {
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0", SemverFilter: "v(["}
		}, reason: sourcev1.OCIPullFailedReason, stalled: true, want: []string{"v(["}},
		{name: "unknown-digest", mutate: func(o *sourcev1.OCIRepository) {
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{Digest: "sha256:" + strings.Repeat("0", 64)}
		}, reason: sourcev1.OCIPullFailedReason, want: []string{strings.Repeat("0", 64), "digest not found"}},
		{name: "no-layer-of-type", mutate: func(o *sourcev1.OCIRepository) {
			o.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: "application/vnd.example.none"}
		}, reason: sourcev1.OCILayerOperationFailedReason, want: []string{"1.0.0@", "application/vnd.example.none", oci.ContentMediaType}},
		{name: "not-gzip", mutate: tag("not-gzip"), reason: sourcev1.OCILayerOperationFailedReason, want: []string{"not-gzip@", "not a gzip"}},
		{name: "too-large", mutate: tag("too-large"), reason: sourcev1.OCILayerOperationFailedReason, want: []string{"too-large@", "--artifact-max-size"}},
		{name: "gzip-bomb", mutate: tag("gzip-bomb"), reason: sourcev1.OCILayerOperationFailedReason, want: []string{"gzip-bomb@", "extracting"}},
		{name: "dotdot", mutate: tag("dotdot"), reason: sourcev1.OCILayerOperationFailedReason, want: []string{"dotdot@", "../x"}},
		{name: "absolute", mutate: tag("absolute"), reason: sourcev1.OCILayerOperationFailedReason, want: []string{"absolute@", "/etc/x"}},
		{name: "hardlink", mutate: tag("hardlink"), reason: sourcev1.OCILayerOperationFailedReason, want: []string{"hardlink@", "passwd"}},
		{name: "device", mutate: tag("device"), reason: sourcev1.OCILayerOperationFailedReason, want: []string{"device@", "dev"}},
		{name: "missing-secret", mutate: func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "absent"} },
			reason: sourcev1.AuthenticationFailedReason, want: []string{"tag '1.0.0'", "'" + ns + "/absent'", "not found"}},
		{name: "secret-without-dockerconfig", mutate: func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "not-docker"} },
			reason: sourcev1.AuthenticationFailedReason, want: []string{"tag '1.0.0'", "not-docker", ".dockerconfigjson"}},
		{name: "signature-fails", mutate: func(o *sourcev1.OCIRepository) { o.Spec.Verify = cosignWith(strangerKeys) },
			reason: sourcev1.VerificationErrorReason, want: []string{"1.0.0@" + good, "no signature verifies"}},
		{name: "no-signature", mutate: func(o *sourcev1.OCIRepository) { tag("unsigned")(o); o.Spec.Verify = cosignWith(keys) },
			reason: sourcev1.VerificationErrorReason, want: []string{"unsigned@", "no cosign signature found"}},
		{name: "signature-for-another-digest", mutate: func(o *sourcev1.OCIRepository) { tag("copied-signature")(o); o.Spec.Verify = cosignWith(keys) },
			reason: sourcev1.VerificationErrorReason, want: []string{"copied-signature@" + copied, "another digest"}},
		{name: "keys-without-pub", mutate: func(o *sourcev1.OCIRepository) { o.Spec.Verify = cosignWith(noPub) },
			reason: sourcev1.VerificationErrorReason, want: []string{"1.0.0@", "*.pub"}},
		{name: "unparsable-key", mutate: func(o *sourcev1.OCIRepository) { o.Spec.Verify = cosignWith(badKey) },
			reason: sourcev1.VerificationErrorReason, want: []string{"1.0.0@", "cosign.pub", "invalid public key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := create(t, ns, tc.name, sourcev1.OCIRepositorySpec{URL: reg.url("app"), Insecure: true, Reference: &sourcev1.OCIRepositoryRef{Tag: "1.0.0"}})
			before := waitRevision(t, obj, "1.0.0@"+good).Status.Artifact
			controllertest.Update(t, kube, obj, tc.mutate)
			got := controllertest.WaitNotReady(t, kube, obj, tc.reason)
			msg := reconcile.Get(got, meta.ReadyCondition).Message
			t.Logf("%s: %s", tc.reason, msg)
			host := tc.host
			if host == "" {
				host = reg.host
			}
			if !(strings.Contains(msg, "registry "+host) && strings.Contains(msg, "repository app")) && !strings.Contains(msg, "oci://"+host+"/app") {
				t.Errorf("message %q names neither registry %s and repository app nor oci://%s/app", msg, host, host)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if reconcile.IsTrue(got, meta.StalledCondition) != tc.stalled {
				t.Errorf("stalled %v, want %v:\n%s", !tc.stalled, tc.stalled, controllertest.Describe(got))
			}
			if a := got.Status.Artifact; a == nil || a.Digest != before.Digest || a.Revision != before.Revision || !served(t, a) {
				t.Errorf("the previous artifact is not served any more: %+v", a)
			}
			controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, tc.reason, tc.want[0])
		})
	}
}

// TestSymlinksDropped: symbolic links in a layer are dropped, as Flux
// does, even one pointing out of the tree; the rest is stored.
func TestSymlinksDropped(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	d := reg.push(t, "app", "links", fluxImage(t, nil, staticLayer(tartest.TarGz(t,
		tartest.Entry{Name: "app.yaml", Content: "a"},
		tartest.Entry{Name: "out", Type: tar.TypeSymlink, Linkname: "../../../etc/passwd"},
		tartest.Entry{Name: "in", Type: tar.TypeSymlink, Linkname: "app.yaml"}), oci.ContentMediaType)))
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Insecure: true, Reference: &sourcev1.OCIRepositoryRef{Tag: "links"}})
	got := waitRevision(t, obj, "links@"+d)
	if n := names(controllertest.ArtifactFiles(t, got.Status.Artifact)); n != "app.yaml" {
		t.Errorf("files %s", n)
	}
}
