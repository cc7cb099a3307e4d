package kinds

import (
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/scheme"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// TestEntries checks what every reader of the catalogue relies on: each
// entry's object and list are the registered types of its GVK, the object is
// a meta.Object unless the kind is static (then it derives its readiness
// and reads its own suspend), the list hands out its items, and every
// accessor is set.
func TestEntries(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range All() {
		t.Run(k.Kind, func(t *testing.T) {
			if seen[k.Kind] || seen[k.Command.Path()] {
				t.Fatalf("%s or %q is in the catalogue twice", k.Kind, k.Command.Path())
			}
			seen[k.Kind], seen[k.Command.Path()] = true, true
			var obj runtime.Object = k.New()
			_, conditioned := obj.(meta.Conditioned)
			producedElsewhere := k.NotReconciled && conditioned // an ExternalArtifact: its producer writes its status
			if _, ok := obj.(meta.Object); !ok && (k.Derive == nil && !producedElsewhere || k.Suspended == nil) {
				t.Fatalf("%T does not implement meta.Object, and its entry has no Derive (nor conditions a producer writes) or Suspended", obj)
			}
			assertRegistered(t, s, k.New(), k.Kind)
			assertRegistered(t, s, k.NewList(), k.Kind+"List")
			if k.Resource == "" || k.Resource != strings.ToLower(k.Resource) {
				t.Errorf("resource %q of %s is not a lower-case resource name", k.Resource, k.Kind)
			}
			if (k.SetSuspend == nil) != k.ReadOnly {
				t.Errorf("entry %s: SetSuspend must be set exactly when the kind is not ReadOnly", k.Kind)
			}
			if k.Items == nil || (k.Revision == nil) != (k.RevisionVerb == "") ||
				k.Sections == nil || k.Summary == nil || k.Command.Name == "" || k.Command.Plural == "" || k.Command.Noun == "" || k.Command.Nouns == "" {
				t.Fatalf("entry %s misses an accessor or a name: %+v", k.Kind, k)
			}
			// Related may stand alone (an ArtifactGenerator's sources, an
			// ExternalArtifact's producer): they are no one Source.
			if (k.Source != nil && k.Related == nil) || (k.Source == nil) != (len(k.SourceKinds) == 0) {
				t.Errorf("entry %s has a Source without Related or SourceKinds, or SourceKinds without a Source", k.Kind)
			}
			for _, name := range append([]string{k.Kind, k.Resource}, k.Command.Aliases...) {
				if got, ok := Lookup(strings.ToUpper(name)); !ok || got.Kind != k.Kind {
					t.Errorf("Lookup(%q) = %s, %v; want %s", name, got.Kind, ok, k.Kind)
				}
			}
			if got, ok := ByGroupKind(k.GroupKind()); !ok || got.Kind != k.Kind {
				t.Errorf("ByGroupKind(%v) = %s, %v", k.GroupKind(), got.Kind, ok)
			}
			exercise(t, k)
		})
	}
}

func assertRegistered(t *testing.T, s *runtime.Scheme, obj runtime.Object, kind string) {
	t.Helper()
	gvks, _, err := s.ObjectKinds(obj)
	if err != nil {
		t.Fatalf("%T is not in the scheme: %v", obj, err)
	}
	if gvks[0].Kind != kind {
		t.Errorf("%T is registered as %v, want kind %s", obj, gvks[0], kind)
	}
}

// exercise runs every accessor on an empty object and on the items of a
// list of two, where a wrong type assertion would panic.
func exercise(t *testing.T, k Kind) {
	t.Helper()
	obj := k.New()
	if k.SetSuspend != nil {
		k.SetSuspend(obj, true)
		if !k.IsSuspended(obj) {
			t.Errorf("SetSuspend(true) is not read back by IsSuspended")
		}
	}
	_ = k.RevisionOf(obj)
	for _, c := range k.Wide {
		_ = c.Value(obj)
	}
	secs := Describe(k, obj, func(time.Time) string { return "1s" })
	if len(secs) < 2 || secs[0].Pairs[2].Value != k.Kind {
		t.Errorf("Describe does not start with the metadata: %+v", secs)
	}
	_ = k.Summary(obj)
	if k.Source != nil {
		obj.SetNamespace("apps")
		if ref := k.Source(obj); ref.Namespace != "apps" || ref.APIVersion == "" {
			t.Errorf("Source does not default the namespace and API version: %+v", ref)
		}
		_ = k.Related(obj)
	}
	if k.SecretRef != nil {
		_ = k.SecretRef(obj)
	}
	list := k.NewList()
	if err := setItems(list, 2, k); err != nil {
		t.Fatal(err)
	}
	items := k.Items(list)
	if len(items) != 2 || items[1].GetName() != "b" {
		t.Errorf("Items returned %d objects, want a and b", len(items))
	}
}

// setItems fills a typed list with n named objects through apimachinery's
// list helpers, without knowing its type.
func setItems(list List, n int, k Kind) error {
	objs := make([]runtime.Object, n)
	for i := range objs {
		o := k.New()
		o.SetName(string(rune('a' + i)))
		objs[i] = o
	}
	return apimeta.SetList(list, objs)
}

func TestCommandPaths(t *testing.T) {
	git, ks := GitRepository(), Kustomization()
	for _, tc := range []struct{ got, want string }{
		{git.Command.Path(), "source git"},
		{git.Command.GetPath(), "sources git"},
		{ks.Command.Path(), "kustomization"},
		{ks.Command.GetPath(), "kustomizations"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if _, ok := Lookup("git"); ok {
		t.Errorf("Lookup(git) found a kind: a command name is not a kind name")
	}
}

func TestInventoryLine(t *testing.T) {
	for id, want := range map[string]string{
		"apps_web_apps_Deployment": "Deployment/apps/web",
		"_apps__Namespace":         "Namespace/apps",
		// The applier writes a ':' in a name as '__'.
		"_system__controller__reader_rbac.authorization.k8s.io_ClusterRole": "ClusterRole/system:controller:reader",
		"not-an-id": "not-an-id",
	} {
		if got := inventoryLine(id); got != want {
			t.Errorf("inventoryLine(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestOCIRepositoryEntry(t *testing.T) {
	oci := OCIRepository()
	if oci.Command.Path() != "source oci" || oci.Command.GetPath() != "sources oci" {
		t.Errorf("command paths %q, %q; want source oci, sources oci", oci.Command.Path(), oci.Command.GetPath())
	}
	for _, name := range []string{"OCIRepository", "ocirepository", "ocirepositories"} {
		if k, ok := Lookup(name); !ok || k.Kind != sourcev1.OCIRepositoryKind {
			t.Errorf("Lookup(%q) = %s, %v", name, k.Kind, ok)
		}
	}
	if k, ok := ByKind(sourcev1.OCIRepositoryKind); !ok || k.Resource != "ocirepositories" {
		t.Errorf("ByKind(OCIRepository) = %+v, %v", k.GroupVersionKind, ok)
	}
	var order []string
	for _, k := range All() {
		order = append(order, k.Kind)
	}
	if got := strings.Join(order, ","); got != "OCIRepository,GitRepository,Bucket,HelmRepository,HelmChart,ExternalArtifact,ArtifactGenerator,Kustomization,HelmRelease,Provider,Alert,Receiver,ImageRepository,ImagePolicy,ImageUpdateAutomation" {
		t.Errorf("catalogue order %s; want sources in the order of Flux's get sources all, then Flux's get all", got)
	}
}

func TestOCIRef(t *testing.T) {
	for _, tc := range []struct {
		ref  *sourcev1.OCIRepositoryRef
		want string
	}{
		{nil, "tag:latest"},
		{&sourcev1.OCIRepositoryRef{}, "tag:latest"},
		{&sourcev1.OCIRepositoryRef{Tag: "6.1.6"}, "tag:6.1.6"},
		{&sourcev1.OCIRepositoryRef{Tag: "6.1.6", SemVer: ">=6.0.0"}, "semver:>=6.0.0"},
		{&sourcev1.OCIRepositoryRef{Tag: "6.1.6", SemVer: ">=6.0.0", Digest: "sha256:ab"}, "digest:sha256:ab"},
	} {
		if got := ociRef(tc.ref); got != tc.want {
			t.Errorf("ociRef(%+v) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

// TestOCIRepositoryDescribe checks the sections of a full OCIRepository:
// every spec field is shown, the artifact's annotations too, and a trace
// names where the content came from.
func TestOCIRepositoryDescribe(t *testing.T) {
	ignore := "/docs\n*.md\n"
	size := int64(1024)
	o := &sourcev1.OCIRepository{
		Spec: sourcev1.OCIRepositorySpec{
			URL:            "oci://ghcr.io/org/manifests/app",
			Reference:      &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0", SemverFilter: "^v"},
			LayerSelector:  &sourcev1.OCILayerSelector{MediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", Operation: "copy"},
			Provider:       "generic",
			SecretRef:      &meta.LocalObjectReference{Name: "pull"},
			CertSecretRef:  &meta.LocalObjectReference{Name: "tls"},
			ProxySecretRef: &meta.LocalObjectReference{Name: "proxy"},
			Verify: &sourcev1.OCIRepositoryVerification{Provider: "cosign",
				MatchOIDCIdentity: []sourcev1.OIDCIdentityMatch{{Issuer: "^https://token$", Subject: "^repo$"}}},
			Ignore:   &ignore,
			Insecure: true,
		},
		Status: sourcev1.OCIRepositoryStatus{
			URL: "http://storage/ocirepository/apps/app/latest.tar.gz",
			Artifact: &meta.Artifact{Revision: "1.2.0@sha256:ab", Digest: "sha256:cd", Size: &size,
				Metadata: map[string]string{ociSourceAnnotation: "https://github.com/org/app", ociRevisionAnnotation: "main@sha1:0123"}},
		},
	}
	o.Name = "app"
	values := map[string]string{}
	for _, s := range Describe(OCIRepository(), o, func(time.Time) string { return "1s" }) {
		for _, p := range s.Pairs {
			values[s.Title+"/"+p.Key] = p.Value
		}
	}
	for key, want := range map[string]string{
		"Spec/Ref":            "semver:>=1.0.0",
		"Spec/Semver Filter":  "^v",
		"Spec/Layer Selector": "application/vnd.cncf.helm.chart.content.v1.tar+gzip:copy",
		"Spec/Secret":         "pull",
		"Spec/Cert Secret":    "tls",
		"Spec/Proxy Secret":   "proxy",
		"Spec/Insecure":       "true",
		"Spec/Ignore":         "/docs, *.md",
		"Spec/Verify":         "cosign (keyless; issuer ^https://token$, subject ^repo$)",
		"Status/URL":          "http://storage/ocirepository/apps/app/latest.tar.gz",
		"Artifact/Revision":   "1.2.0@sha256:ab",
		"Artifact/Size":       "1024 bytes",
		"Artifact/Metadata":   "org.opencontainers.image.revision=main@sha1:0123, org.opencontainers.image.source=https://github.com/org/app",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	summary := map[string]string{}
	for _, p := range OCIRepository().Summary(o) {
		summary[p.Key] = p.Value
	}
	if summary["URL"] != o.Spec.URL || summary["Origin Source"] != "https://github.com/org/app" || summary["Origin Revision"] != "main@sha1:0123" {
		t.Errorf("trace summary %v", summary)
	}
	if got := OCIRepository().SecretRef(o); got != "pull" {
		t.Errorf("SecretRef = %q, want the pull Secret", got)
	}
}
