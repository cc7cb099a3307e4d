package helmtest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

const schema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["message"],
  "properties": {"message": {"type": "string"}, "replicaCount": {"type": "integer"}}
}`

func fullChart() *helmtest.Chart {
	sub := helmtest.ConfigMapChart("sub", "0.1.0")
	return helmtest.ConfigMapChart("full", "1.2.3").
		Schema(schema).
		Hook("pre", "pre-install,pre-upgrade").
		Test("smoke").
		CRD("widgets.yaml", helmtest.CRDManifest("example.com", "Widget")).
		File("values-prod.yaml", "message: prod\n").
		Dependency(helmtest.Dependency{Name: "sub", Version: "0.1.0"}).
		Dependency(helmtest.Dependency{Name: "remote", Version: "~1.0", Repository: "https://charts.example.com", Condition: "remote.enabled"}).
		Vendor(sub)
}

// The packaged chart is what the SDK's loader reads back, field by field,
// and packaging is reproducible.
func TestChartRoundTripsThroughSDKLoader(t *testing.T) {
	c := fullChart()
	data := c.MustPackage(t)
	if again := c.MustPackage(t); !bytes.Equal(data, again) {
		t.Fatal("packaging the same chart twice gave different bytes")
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	checkFullChart(t, ch)

	dir, err := c.WriteDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFullChart(t, fromDir)

	// A version copy changes the version (and the appVersion that followed
	// it), not the original.
	v2 := c.WithVersion("2.0.0")
	ch2, err := loader.LoadArchive(bytes.NewReader(v2.MustPackage(t)))
	if err != nil {
		t.Fatal(err)
	}
	if ch2.Metadata.Version != "2.0.0" || ch2.Metadata.AppVersion != "2.0.0" || c.Version() != "1.2.3" || v2.Filename() != "full-2.0.0.tgz" {
		t.Fatalf("WithVersion: got %s/%s, original %s", ch2.Metadata.Version, ch2.Metadata.AppVersion, c.Version())
	}
}

func checkFullChart(t *testing.T, ch *chartv2.Chart) {
	t.Helper()
	md := ch.Metadata
	if md.Name != "full" || md.Version != "1.2.3" || md.AppVersion != "1.2.3" || md.APIVersion != chartv2.APIVersionV2 {
		t.Errorf("metadata: %+v", md)
	}
	if len(md.Dependencies) != 2 || md.Dependencies[1].Repository != "https://charts.example.com" || md.Dependencies[1].Condition != "remote.enabled" {
		t.Errorf("dependencies: %+v", md.Dependencies)
	}
	if !reflect.DeepEqual(ch.Values, map[string]any{"message": "hello", "replicaCount": float64(1)}) {
		t.Errorf("values: %#v", ch.Values)
	}
	if string(ch.Schema) != schema {
		t.Errorf("schema: %s", ch.Schema)
	}
	var templates []string
	for _, f := range ch.Templates {
		templates = append(templates, f.Name)
	}
	sort.Strings(templates)
	want := []string{"templates/configmap.yaml", "templates/hooks/pre.yaml", "templates/tests/smoke.yaml"}
	if !reflect.DeepEqual(templates, want) {
		t.Errorf("templates: %v, want %v", templates, want)
	}
	for _, f := range ch.Templates {
		if f.Name == "templates/hooks/pre.yaml" && !strings.Contains(string(f.Data), `helm.sh/hook: "pre-install,pre-upgrade"`) {
			t.Errorf("hook template:\n%s", f.Data)
		}
		if f.Name == "templates/tests/smoke.yaml" && !strings.Contains(string(f.Data), `helm.sh/hook: "test"`) {
			t.Errorf("test template:\n%s", f.Data)
		}
	}
	crds := ch.CRDObjects()
	if len(crds) != 1 || crds[0].Name != "crds/widgets.yaml" || !strings.Contains(string(crds[0].File.Data), "name: widgets.example.com") {
		t.Errorf("CRDs: %+v", crds)
	}
	var prod bool
	for _, f := range ch.Files {
		prod = prod || (f.Name == "values-prod.yaml" && string(f.Data) == "message: prod\n")
	}
	if !prod {
		t.Error("values-prod.yaml is not among the chart's files")
	}
	deps := ch.Dependencies()
	if len(deps) != 1 || deps[0].Name() != "sub" || deps[0].Metadata.Version != "0.1.0" || len(deps[0].Templates) != 1 {
		t.Errorf("vendored subcharts: %d", len(deps))
	}
}

func get(t *testing.T, client *http.Client, u, user, pass string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// loadIndex parses an index with the SDK, as helm reads a repository's.
func loadIndex(t *testing.T, data []byte) *repo.IndexFile {
	t.Helper()
	p := filepath.Join(t.TempDir(), "index.yaml")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := repo.LoadIndexFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// fetchAll reads the index, resolves every chart URL against the
// repository URL, downloads it and checks it against the entry's digest
// and version.
func fetchAll(t *testing.T, r *helmtest.Repository, client *http.Client, user, pass string) *repo.IndexFile {
	t.Helper()
	resp, body := get(t, client, r.URL+"/index.yaml", user, pass)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET index.yaml: %s", resp.Status)
	}
	idx := loadIndex(t, body)
	base, err := url.Parse(r.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	for name, versions := range idx.Entries {
		for _, cv := range versions {
			ref, err := url.Parse(cv.URLs[0])
			if err != nil {
				t.Fatal(err)
			}
			resp, archive := get(t, client, base.ResolveReference(ref).String(), user, pass)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s", cv.URLs[0], resp.Status)
			}
			sum := sha256.Sum256(archive)
			if hex.EncodeToString(sum[:]) != cv.Digest {
				t.Errorf("%s %s: digest %x, index says %s", name, cv.Version, sum, cv.Digest)
			}
			ch, err := loader.LoadArchive(bytes.NewReader(archive))
			if err != nil {
				t.Fatal(err)
			}
			if ch.Name() != name || ch.Metadata.Version != cv.Version {
				t.Errorf("archive of %s %s holds %s %s", name, cv.Version, ch.Name(), ch.Metadata.Version)
			}
		}
	}
	return idx
}

func versions(idx *repo.IndexFile, name string) []string {
	var out []string
	for _, cv := range idx.Entries[name] {
		out = append(out, cv.Version)
	}
	return out
}

func TestRepositoryPlain(t *testing.T) {
	r := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %s", r.URL)
	}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1"} {
		cv := r.MustPublish(t, helmtest.ConfigMapChart("app", v))
		if cv.URLs[0] != "app-"+v+".tgz" {
			t.Errorf("relative chart URL: %v", cv.URLs)
		}
	}
	idx := fetchAll(t, r, r.HTTPClient(), "", "")
	if got := versions(idx, "app"); !reflect.DeepEqual(got, []string{"2.0.0-rc.1", "1.1.0", "1.0.0"}) {
		t.Fatalf("versions %v", got)
	}

	// Publishing a version again replaces it; Remove drops one from the index.
	r.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0").Values("message: again\n"))
	if err := r.Remove("app", "1.1.0"); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove("app", "9.9.9"); err == nil {
		t.Fatal("removing a version that is not there succeeded")
	}
	if got := r.Versions("app"); !reflect.DeepEqual(got, []string{"2.0.0-rc.1", "1.0.0"}) {
		t.Fatalf("versions after republish and remove: %v", got)
	}
	fetchAll(t, r, r.HTTPClient(), "", "")

	// A replaced archive no longer matches the index digest.
	r.ReplaceArchive("app-1.0.0.tgz", []byte("not a chart"))
	_, body := get(t, r.HTTPClient(), r.URL+"/app-1.0.0.tgz", "", "")
	if string(body) != "not a chart" {
		t.Fatalf("replaced archive: %q", body)
	}
	resp, _ := get(t, r.HTTPClient(), r.URL+"/absent-1.0.0.tgz", "", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("absent archive: %s", resp.Status)
	}

	// SetIndex serves other bytes, nil goes back.
	r.SetIndex([]byte("{not yaml"))
	if _, body := get(t, r.HTTPClient(), r.URL+"/index.yaml", "", ""); string(body) != "{not yaml" {
		t.Fatalf("overridden index: %q", body)
	}
	r.SetIndex(nil)
	if _, body := get(t, r.HTTPClient(), r.URL+"/index.yaml", "", ""); !bytes.Contains(body, []byte("apiVersion: v1")) {
		t.Fatalf("index after SetIndex(nil): %q", body)
	}
}

func TestRepositoryBasicAuth(t *testing.T) {
	r := helmtest.NewRepository(t, helmtest.RepositoryOptions{Username: "alice", Password: "s3cret"})
	r.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	for _, c := range []struct{ user, pass string }{{"", ""}, {"alice", "wrong"}, {"bob", "s3cret"}} {
		for _, p := range []string{"/index.yaml", "/app-1.0.0.tgz"} {
			resp, _ := get(t, r.HTTPClient(), r.URL+p, c.user, c.pass)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("GET %s as %q: %s, want 401 with a challenge", p, c.user, resp.Status)
			}
		}
	}
	fetchAll(t, r, r.HTTPClient(), "alice", "s3cret")
	reqs := r.Requests()
	if last := reqs[len(reqs)-1]; last.Status != http.StatusOK || !strings.HasPrefix(last.Authorization, "Basic ") {
		t.Fatalf("last request recorded as %+v", last)
	}
}

func TestRepositoryTLS(t *testing.T) {
	r := helmtest.NewRepository(t, helmtest.RepositoryOptions{TLS: true})
	r.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	if !strings.HasPrefix(r.URL, "https://127.0.0.1:") || r.CAPEM == nil || r.ClientCertPEM != nil {
		t.Fatalf("URL %s, CA %v, client cert %v", r.URL, r.CAPEM != nil, r.ClientCertPEM != nil)
	}
	if _, err := http.Get(r.URL + "/index.yaml"); err == nil {
		t.Fatal("a client that does not trust the test CA got an answer")
	}
	fetchAll(t, r, r.HTTPClient(), "", "")
}

func TestRepositoryClientCert(t *testing.T) {
	r := helmtest.NewRepository(t, helmtest.RepositoryOptions{ClientCert: true})
	r.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	if r.ClientCertPEM == nil || r.ClientKeyPEM == nil {
		t.Fatal("no client certificate")
	}
	noCert := r.TLSConfig()
	noCert.Certificates = nil
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = noCert
	if resp, err := (&http.Client{Transport: tr}).Get(r.URL + "/index.yaml"); err == nil {
		resp.Body.Close()
		t.Fatal("a client without a certificate got an answer")
	}
	fetchAll(t, r, r.HTTPClient(), "", "")
}

// Under AbsoluteChartURLs the index points at the second host, which
// serves without credentials and records the Authorization it gets.
func TestRepositoryAbsoluteChartURLs(t *testing.T) {
	r := helmtest.NewRepository(t, helmtest.RepositoryOptions{TLS: true, AbsoluteChartURLs: true, Username: "alice", Password: "s3cret"})
	cv := r.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	want := r.ChartHost.URL + "/app-1.0.0.tgz"
	if cv.URLs[0] != want || !strings.HasPrefix(want, "https://localhost:") {
		t.Fatalf("chart URL %v, want %s", cv.URLs, want)
	}
	resp, _ := get(t, r.HTTPClient(), want, "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chart host without credentials: %s", resp.Status)
	}
	fetchAll(t, r, r.HTTPClient(), "alice", "s3cret")
	got := r.ChartHost.Authorizations()
	if len(got) != 2 || got[0] != "" || !strings.HasPrefix(got[1], "Basic ") {
		t.Fatalf("chart host saw Authorization %q", got)
	}
	for _, req := range r.Requests() {
		if strings.HasSuffix(req.Path, ".tgz") {
			t.Errorf("the repository host served %s: the chart was not fetched from the chart host", req.Path)
		}
	}
}

// In the stalling mode a request waits until the client gives up or
// Resume answers it.
func TestRepositoryStall(t *testing.T) {
	r := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	r.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	r.Stall()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/index.yaml", nil)
		resp, err := r.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-r.Stalled()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("a stalled request ended with %v, want the client's cancellation", err)
	}

	// The chart host stalls too; Resume answers what waits.
	done := make(chan int, 1)
	go func() {
		resp, err := r.HTTPClient().Get(r.ChartHost.URL + "/app-1.0.0.tgz")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-r.Stalled()
	r.Resume()
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the request released by Resume got %d", code)
	}
	fetchAll(t, r, r.HTTPClient(), "", "")
}

// helm repo add and helm search repo --versions, run by the real helm CLI,
// list exactly the versions published, over plain HTTP and over mutual
// TLS with basic auth; helm pull gets the published archive.
func TestHelmCLIRepository(t *testing.T) {
	cli := helmtest.NewCLI(t)
	for _, tc := range []struct {
		name string
		opts helmtest.RepositoryOptions
	}{
		{"plain", helmtest.RepositoryOptions{}},
		{"mtls-basic-auth", helmtest.RepositoryOptions{ClientCert: true, Username: "alice", Password: "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := helmtest.NewRepository(t, tc.opts)
			published := []string{"0.9.0", "1.0.0", "1.0.1-beta.1", "1.1.0"}
			for _, v := range published {
				r.MustPublish(t, helmtest.ConfigMapChart("app", v))
			}
			r.MustPublish(t, helmtest.ConfigMapChart("other", "3.0.0"))

			args := []string{"repo", "add", tc.name, r.URL}
			if tc.opts.ClientCert {
				dir := t.TempDir()
				files := map[string][]byte{"ca.crt": r.CAPEM, "tls.crt": r.ClientCertPEM, "tls.key": r.ClientKeyPEM}
				for n, data := range files {
					if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				args = append(args, "--ca-file", filepath.Join(dir, "ca.crt"), "--cert-file", filepath.Join(dir, "tls.crt"),
					"--key-file", filepath.Join(dir, "tls.key"), "--username", r.Username, "--password", r.Password)
			}
			cli.Run(t, args...)

			out := cli.Run(t, "search", "repo", tc.name+"/app", "--versions", "--devel", "-o", "json")
			var found []struct{ Name, Version string }
			if err := json.Unmarshal([]byte(out), &found); err != nil {
				t.Fatalf("helm search output: %v\n%s", err, out)
			}
			var got []string
			for _, f := range found {
				if f.Name != tc.name+"/app" {
					t.Errorf("helm search listed %s", f.Name)
				}
				got = append(got, f.Version)
			}
			sort.Strings(got)
			want := append([]string(nil), published...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("helm search repo --versions listed %v, published %v", got, want)
			}

			dest := t.TempDir()
			cli.Run(t, "pull", tc.name+"/app", "--version", "1.0.0", "-d", dest)
			pulled, err := os.ReadFile(filepath.Join(dest, "app-1.0.0.tgz"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pulled, helmtest.ConfigMapChart("app", "1.0.0").MustPackage(t)) {
				t.Fatal("helm pull got other bytes than the published archive")
			}
		})
	}
}

// helm pull oci:// gets what PushOCI pushed, a version with build
// metadata included ('+' tagged '_').
func TestHelmCLIPullOCI(t *testing.T) {
	cli := helmtest.NewCLI(t)
	reg := ocitest.Start(t, ocitest.Options{})
	for _, v := range []string{"1.0.0", "1.1.0+build.7"} {
		pushed := helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", v))
		if pushed.ChartURL != "oci://"+reg.Host+"/charts/app" || pushed.RepositoryURL != "oci://"+reg.Host+"/charts" {
			t.Fatalf("URLs %s, %s", pushed.ChartURL, pushed.RepositoryURL)
		}
		if pushed.Tag != strings.ReplaceAll(v, "+", "_") {
			t.Fatalf("tag %s for version %s", pushed.Tag, v)
		}
		dest := t.TempDir()
		out := cli.Run(t, "pull", pushed.ChartURL, "--version", v, "--plain-http", "-d", dest)
		if !strings.Contains(out, pushed.Digest.String()) {
			t.Errorf("helm pull did not report digest %s:\n%s", pushed.Digest, out)
		}
		pulled, err := os.ReadFile(filepath.Join(dest, "app-"+v+".tgz"))
		if err != nil {
			t.Fatalf("helm pull %s --version %s: %v\n%s", pushed.ChartURL, v, err, out)
		}
		if !bytes.Equal(pulled, pushed.Archive) {
			t.Fatalf("helm pull of %s got other bytes than were pushed", v)
		}
	}
	out := cli.Run(t, "show", "chart", "oci://"+reg.Host+"/charts/app", "--version", "1.1.0+build.7", "--plain-http")
	if !strings.Contains(out, "version: 1.1.0+build.7") {
		t.Fatalf("helm show chart:\n%s", out)
	}
}

// A chart pushed over TLS with basic auth and signed in both cosign
// formats verifies with the project's verifier, and not with another key.
func TestPushOCISigned(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{TLS: true, Auth: ocitest.BasicAuth})
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyFor := func(k *ecdsa.PrivateKey) []cosign.PublicKey {
		pem, err := cosigntest.PublicKeyPEM(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		keys, err := cosign.ParsePublicKeys(map[string][]byte{"cosign.pub": pem})
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	ctx := context.Background()
	for _, format := range []string{cosign.FormatBundle, cosign.FormatLegacy} {
		pushed := helmtest.PushOCITo(t, reg, "signed/"+format, helmtest.ConfigMapChart("app", "1.0.0"))
		desc, err := remote.Get(pushed.Repository.Tag(pushed.Tag), helmtest.RemoteOptions(reg)...)
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest != pushed.Digest {
			t.Fatalf("tag %s resolves to %s, pushed %s", pushed.Tag, desc.Digest, pushed.Digest)
		}
		checkHelmManifest(t, desc.Manifest)
		if format == cosign.FormatBundle {
			pushed.SignBundle(t, priv)
		} else {
			pushed.SignLegacy(t, priv)
		}
		res, err := cosign.Verify(ctx, pushed.Repository, pushed.Digest, keyFor(priv), helmtest.RemoteOptions(reg)...)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if res.Format != format {
			t.Errorf("verified as %s, signed as %s", res.Format, format)
		}
		if _, err := cosign.Verify(ctx, pushed.Repository, pushed.Digest, keyFor(other), helmtest.RemoteOptions(reg)...); err == nil {
			t.Errorf("%s: another key verified the chart", format)
		}
	}
}

func checkHelmManifest(t *testing.T, raw []byte) {
	t.Helper()
	var m struct {
		MediaType string
		Config    struct{ MediaType string }
		Layers    []struct{ MediaType string }
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Config.MediaType != helmtest.ConfigMediaType ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != helmtest.ChartLayerMediaType {
		t.Fatalf("manifest:\n%s", raw)
	}
}
