package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// artifactRegistry is go-containerregistry's in-memory registry over plain
// HTTP, read back in the tests with net/http alone.
type artifactRegistry struct {
	host     string
	requests atomic.Int64
}

// startArtifactRegistry serves a registry on 127.0.0.1; wrap, when set,
// stands in front of it (authentication).
func startArtifactRegistry(t *testing.T, wrap func(http.Handler) http.Handler) *artifactRegistry {
	t.Helper()
	r := &artifactRegistry{}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		h.ServeHTTP(w, req)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// url is the oci:// address of repo, with ref (":tag" or "@digest").
func (r *artifactRegistry) url(repo, ref string) string { return "oci://" + r.host + "/" + repo + ref }

// rawDescriptor and rawManifest are the OCI manifest as JSON, read without
// go-containerregistry.
type rawDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

type rawManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        rawDescriptor     `json:"config"`
	Layers        []rawDescriptor   `json:"layers"`
	Annotations   map[string]string `json:"annotations"`
}

// get reads /v2/<repo>/<suffix>, failing the test on anything but 200.
func (r *artifactRegistry) get(t *testing.T, repo, suffix, accept string) ([]byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+r.host+"/v2/"+repo+"/"+suffix, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", req.URL, resp.Status, b)
	}
	return b, resp.Header
}

// manifest reads the manifest ref (tag or digest) of repo and returns it
// with its digest, computed from the bytes.
func (r *artifactRegistry) manifest(t *testing.T, repo, ref string) (rawManifest, string) {
	t.Helper()
	b, h := r.get(t, repo, "manifests/"+ref, "application/vnd.oci.image.manifest.v1+json")
	var m rawManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest %s:%s: %v", repo, ref, err)
	}
	digest := sha256Digest(b)
	if got := h.Get("Docker-Content-Digest"); got != "" && got != digest {
		t.Errorf("manifest %s:%s: the registry says digest %s, the bytes are %s", repo, ref, got, digest)
	}
	return m, digest
}

// blob reads a blob of repo and checks its digest.
func (r *artifactRegistry) blob(t *testing.T, repo, digest string) []byte {
	t.Helper()
	b, _ := r.get(t, repo, "blobs/"+digest, "")
	if got := sha256Digest(b); got != digest {
		t.Fatalf("blob %s has digest %s", digest, got)
	}
	return b
}

// upload writes a blob to repo with a monolithic POST, the distribution
// specification's single request upload.
func (r *artifactRegistry) upload(t *testing.T, repo string, blob []byte) {
	t.Helper()
	r.send(t, http.MethodPost, "http://"+r.host+"/v2/"+repo+"/blobs/uploads/?digest="+sha256Digest(blob), "application/octet-stream", blob)
}

// put sends body to /v2/<repo>/<suffix>.
func (r *artifactRegistry) put(t *testing.T, repo, suffix, contentType string, body []byte) {
	t.Helper()
	r.send(t, http.MethodPut, "http://"+r.host+"/v2/"+repo+"/"+suffix, contentType, body)
}

func (r *artifactRegistry) send(t *testing.T, method, u, contentType string, body []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%s %s: %s: %s", method, u, resp.Status, b)
	}
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// requireBasicAuth answers 401 with a basic challenge unless the request
// carries user:password; forbidden users get 403 on writes.
func requireBasicAuth(user, password string, readOnly ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			switch {
			case ok && slices.Contains(readOnly, u):
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					http.Error(w, `{"errors":[{"code":"DENIED","message":"read-only user"}]}`, http.StatusForbidden)
					return
				}
			case !ok || u != user || p != password:
				w.Header().Set("WWW-Authenticate", `Basic realm="test registry"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// artifactFlux runs the command line without a cluster, stdin as its
// standard input; DOCKER_CONFIG points at dockerConfig (a temporary empty
// directory when ""), so no credential of the machine is used.
func artifactFlux(t *testing.T, dockerConfig, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if dockerConfig == "" {
		dockerConfig = t.TempDir()
	}
	t.Setenv("DOCKER_CONFIG", dockerConfig)
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dockerConfig, "none.json"))
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(stdin), &out, &errOut)
	env := map[string]string{"HOME": dir, "FLUXCD_PLUGINS": filepath.Join(dir, "plugins")}
	f.Getenv = func(k string) string { return env[k] }
	kubeconfig := filepath.Join(dir, "no-such-kubeconfig")
	f.Kube.KubeConfig = &kubeconfig
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// writeDockerConfig writes a docker config.json with user:password for
// host and returns its directory.
func writeDockerConfig(t *testing.T, host, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	b, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pushArgs are the arguments of a plain push of dir to url.
func pushArgs(url, dir string, extra ...string) []string {
	return append([]string{"push", "artifact", url, "--path", dir, "--insecure-registry",
		"--source", "https://github.com/org/fleet", "--revision", "main@sha1:" + strings.Repeat("ab", 20)}, extra...)
}
