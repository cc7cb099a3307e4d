package ocitest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const manifestAccept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"

// get sends GET url with optional headers through client.
func get(t *testing.T, client *http.Client, u string, header http.Header) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func wantStatus(t *testing.T, client *http.Client, u string, header http.Header, status int) *http.Response {
	t.Helper()
	resp, body, err := get(t, client, u, header)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %s %s, want %d", u, resp.Status, body, status)
	}
	return resp
}

func basic(user, pass string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
}

// imageTarball writes a random two-layer image as a docker-save tarball
// tagged ref and returns its path and the digest of its config.
func imageTarball(t *testing.T, ref string) (path, configDigest string) {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return path, cfg.String()
}

// crane runs bin/crane with env and returns its standard output.
func crane(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(CraneBinary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("crane %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

func toolEnv(t *testing.T, r *Registry) []string {
	t.Helper()
	env, err := r.ToolEnv()
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// pushAndCheck pushes an image with crane and checks, through the HTTP
// API, that the registry serves the manifest crane reported, referring to
// the config of the image pushed.
func pushAndCheck(t *testing.T, r *Registry, env []string, header http.Header) {
	t.Helper()
	ref := r.Ref("ocitest/app") + ":v1"
	path, configDigest := imageTarball(t, ref)
	out, err := crane(t, env, "push", path, ref)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := name.NewDigest(out)
	if err != nil {
		t.Fatalf("crane push printed %q, not a digest reference: %v", out, err)
	}
	digest, err := crane(t, env, "digest", ref)
	if err != nil {
		t.Fatal(err)
	}
	if digest != pushed.DigestStr() {
		t.Errorf("crane digest %s, crane push %s", digest, pushed.DigestStr())
	}

	h := http.Header{"Accept": {manifestAccept}}
	for k, v := range header {
		h[k] = v
	}
	resp, body, err := get(t, r.HTTPClient(), r.URL+"/v2/ocitest/app/manifests/v1", h)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the manifest: %v %v %s", err, resp, body)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != pushed.DigestStr() {
		t.Errorf("the registry serves manifest %s, crane pushed %s", got, pushed.DigestStr())
	}
	var manifest struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []json.RawMessage `json:"layers"`
	}
	if err := json.Unmarshal(body, &manifest); err != nil {
		t.Fatalf("manifest: %v\n%s", err, body)
	}
	if manifest.Config.Digest != configDigest || len(manifest.Layers) != 2 {
		t.Errorf("manifest config %s with %d layers, want %s with 2", manifest.Config.Digest, len(manifest.Layers), configDigest)
	}
}

func TestPlainHTTP(t *testing.T) {
	r := Start(t, Options{})
	if !strings.HasPrefix(r.URL, "http://127.0.0.1:") || r.CAPEM != nil || r.Username != "" {
		t.Fatalf("plain registry: URL %s, CA %v, user %q", r.URL, r.CAPEM != nil, r.Username)
	}
	resp := wantStatus(t, r.HTTPClient(), r.URL+"/v2/", nil, http.StatusOK)
	if v := resp.Header.Get("Docker-Distribution-Api-Version"); v != "registry/2.0" {
		t.Errorf("Docker-Distribution-Api-Version %q", v)
	}
	if got := string(r.DockerConfigJSON()); got != `{"auths":{}}` {
		t.Errorf("docker config without credentials: %s", got)
	}
	pushAndCheck(t, r, toolEnv(t, r), nil)

	// The access log has crane's requests, the HEAD of `crane digest`
	// among them, and not the harness's own.
	reqs, err := r.Requests()
	if err != nil {
		t.Fatal(err)
	}
	head := slices.IndexFunc(reqs, func(q Request) bool {
		return q.Method == http.MethodHead && q.URI == "/v2/ocitest/app/manifests/v1" && q.Status == http.StatusOK &&
			strings.Contains(q.UserAgent, "crane")
	})
	put := slices.IndexFunc(reqs, func(q Request) bool {
		return q.Method == http.MethodPut && q.URI == "/v2/ocitest/app/manifests/v1" && q.Status == http.StatusCreated
	})
	if head < 0 || put < 0 || put > head {
		t.Errorf("want the manifest PUT then crane's HEAD in the access log:\n%v", reqs)
	}
	for _, q := range reqs {
		if strings.Contains(q.URI, "ocitest-mark") {
			t.Errorf("a marker request is listed: %v", q)
		}
	}
	// Requests taken right after a request include it.
	wantStatus(t, r.HTTPClient(), r.URL+"/v2/ocitest/app/tags/list", nil, http.StatusOK)
	after, err := r.Requests()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(reqs)+1 || after[len(after)-1].URI != "/v2/ocitest/app/tags/list" {
		t.Errorf("after one more request: %v", after[len(reqs):])
	}
}

func TestHTTPS(t *testing.T) {
	r := Start(t, Options{TLS: true, Hosts: []string{"registry.test"}})
	if !strings.HasPrefix(r.URL, "https://") || r.CA == nil || len(r.CAPEM) == 0 || r.ClientCertPEM != nil {
		t.Fatalf("TLS registry: URL %s, CA %d bytes, client cert %v", r.URL, len(r.CAPEM), r.ClientCertPEM != nil)
	}
	wantStatus(t, r.HTTPClient(), r.URL+"/v2/", nil, http.StatusOK)

	// A client that does not trust the test CA fails the handshake.
	if _, _, err := get(t, &http.Client{Transport: &http.Transport{}}, r.URL+"/v2/", nil); err == nil ||
		!strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("GET without the CA: %v, want an unknown-authority error", err)
	}
	// Plain HTTP to the TLS port is refused.
	wantStatus(t, &http.Client{}, "http://"+r.Host+"/v2/", nil, http.StatusBadRequest)

	// The certificate also names the extra host.
	cfg := r.TLSConfig()
	cfg.ServerName = "registry.test"
	wantStatus(t, &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, r.URL+"/v2/", nil, http.StatusOK)

	// crane trusts the CA through SSL_CERT_FILE.
	pushAndCheck(t, r, toolEnv(t, r), nil)
}

func TestMutualTLS(t *testing.T) {
	r := Start(t, Options{ClientCert: true})
	if !strings.HasPrefix(r.URL, "https://") || r.ClientCertPEM == nil || r.ClientKeyPEM == nil {
		t.Fatalf("mTLS registry: URL %s, client cert %v", r.URL, r.ClientCertPEM != nil)
	}
	wantStatus(t, r.HTTPClient(), r.URL+"/v2/", nil, http.StatusOK)

	// The exported PEM pair works as well as the prepared client.
	pair, err := tls.X509KeyPair(r.ClientCertPEM, r.ClientKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: r.CA.Pool(), Certificates: []tls.Certificate{pair}}
	wantStatus(t, &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, r.URL+"/v2/", nil, http.StatusOK)

	// Without a client certificate the handshake fails.
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.CA.Pool()}}}
	if resp, _, err := get(t, noCert, r.URL+"/v2/", nil); err == nil {
		t.Fatalf("GET without a client certificate answered %s", resp.Status)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("GET without a client certificate: %v, want a TLS certificate error", err)
	}
}

func TestBasicAuth(t *testing.T) {
	r := Start(t, Options{Auth: BasicAuth, Password: "s3cret"})
	if r.Username != "ocitest" || r.Password != "s3cret" {
		t.Fatalf("account %q/%q", r.Username, r.Password)
	}
	resp := wantStatus(t, r.HTTPClient(), r.URL+"/v2/", nil, http.StatusUnauthorized)
	if got := resp.Header.Get("WWW-Authenticate"); got != `Basic realm="ocitest"` {
		t.Errorf("challenge %q", got)
	}
	wantStatus(t, r.HTTPClient(), r.URL+"/v2/", basic("ocitest", "wrong"), http.StatusUnauthorized)
	wantStatus(t, r.HTTPClient(), r.URL+"/v2/", basic("ocitest", "s3cret"), http.StatusOK)

	var config struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(r.DockerConfigJSON(), &config); err != nil {
		t.Fatal(err)
	}
	entry := config.Auths[r.Host]
	if entry.Username != "ocitest" || entry.Password != "s3cret" || entry.Auth != base64.StdEncoding.EncodeToString([]byte("ocitest:s3cret")) {
		t.Errorf("docker config: %s", r.DockerConfigJSON())
	}

	// crane pushes with the docker config and is refused without it.
	pushAndCheck(t, r, toolEnv(t, r), basic("ocitest", "s3cret"))
	anonymous := append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
	if _, err := crane(t, anonymous, "digest", r.Ref("ocitest/app")+":v1"); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("crane without credentials: %v, want UNAUTHORIZED", err)
	}
}

func TestGeneratedPassword(t *testing.T) {
	a := Start(t, Options{Auth: BasicAuth})
	b := Start(t, Options{Auth: BasicAuth})
	if a.Password == "" || a.Password == b.Password {
		t.Errorf("generated passwords %q and %q, want two different ones", a.Password, b.Password)
	}
	wantStatus(t, a.HTTPClient(), a.URL+"/v2/", basic(a.Username, a.Password), http.StatusOK)
	wantStatus(t, a.HTTPClient(), a.URL+"/v2/", basic(b.Username, b.Password), http.StatusUnauthorized)
}

// bearerChallenge parses `Bearer realm="...",service="..."[,scope="..."]`.
func bearerChallenge(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		t.Fatalf("challenge %q is not Bearer", h)
	}
	params := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(kv, "=")
		params[k] = strings.Trim(v, `"`)
	}
	return params
}

func fetchToken(t *testing.T, r *Registry, header http.Header, scopes ...string) (int, string) {
	t.Helper()
	q := url.Values{"service": {r.TokenServer.Service}, "scope": scopes}
	resp, body, err := get(t, r.HTTPClient(), r.TokenServer.Realm+"?"+q.Encode(), header)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
			t.Fatalf("token answer %s: %v", body, err)
		}
	}
	return resp.StatusCode, tok.Token
}

func TestTokenAuth(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"http", Options{Auth: TokenAuth}},
		{"https", Options{Auth: TokenAuth, TLS: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Start(t, tc.opts)
			ts := r.TokenServer
			if ts == nil || !strings.HasPrefix(ts.Realm, strings.Split(r.URL, "://")[0]+"://localhost:") {
				t.Fatalf("token server %+v for registry %s", ts, r.URL)
			}
			resp := wantStatus(t, r.HTTPClient(), r.URL+"/v2/", nil, http.StatusUnauthorized)
			ch := bearerChallenge(t, resp.Header.Get("WWW-Authenticate"))
			if ch["realm"] != ts.Realm || ch["service"] != ts.Service {
				t.Errorf("challenge %v, want realm %s and service %s", ch, ts.Realm, ts.Service)
			}

			// The token server refuses wrong and missing credentials.
			if code, _ := fetchToken(t, r, basic(r.Username, "wrong"), "repository:ocitest/app:pull"); code != http.StatusUnauthorized {
				t.Errorf("token with a wrong password: %d, want 401", code)
			}
			if code, _ := fetchToken(t, r, nil, "repository:ocitest/app:pull"); code != http.StatusUnauthorized {
				t.Errorf("anonymous token: %d, want 401", code)
			}

			code, token := fetchToken(t, r, basic(r.Username, r.Password), "repository:ocitest/app:pull,push")
			if code != http.StatusOK {
				t.Fatalf("token: %d", code)
			}
			claims, err := ts.verifyToken(token)
			if err != nil {
				t.Fatal(err)
			}
			if claims["iss"] != ts.Issuer || claims["aud"] != ts.Service || claims["sub"] != r.Username {
				t.Errorf("claims %v", claims)
			}
			bearer := http.Header{"Authorization": {"Bearer " + token}}
			wantStatus(t, r.HTTPClient(), r.URL+"/v2/", bearer, http.StatusOK)
			wantStatus(t, r.HTTPClient(), r.URL+"/v2/", http.Header{"Authorization": {"Bearer " + token[:len(token)-4] + "AAAA"}}, http.StatusUnauthorized)
			// The registry enforces the scope: this token does not cover
			// another repository.
			wantStatus(t, r.HTTPClient(), r.URL+"/v2/other/tags/list", bearer, http.StatusUnauthorized)

			// crane follows the challenge with the docker config's account.
			pushAndCheck(t, r, toolEnv(t, r), bearer)
			reqs := ts.Requests()
			pushed := slices.ContainsFunc(reqs, func(q TokenRequest) bool {
				return q.Account == r.Username && q.Status == http.StatusOK &&
					(slices.Contains(q.Granted, "repository:ocitest/app:push,pull") || slices.Contains(q.Granted, "repository:ocitest/app:pull,push"))
			})
			if !pushed {
				t.Errorf("no token with push access to ocitest/app among %+v", reqs)
			}
		})
	}
}

func TestTokenAnonymousPull(t *testing.T) {
	r := Start(t, Options{Auth: TokenAuth, AnonymousPull: true})
	code, token := fetchToken(t, r, nil, "repository:ocitest/app:pull,push")
	if code != http.StatusOK {
		t.Fatalf("anonymous token: %d", code)
	}
	claims, err := r.TokenServer.verifyToken(token)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(claims["access"]); got != "[map[actions:[pull] name:ocitest/app type:repository]]" {
		t.Errorf("anonymous access %s, want pull only", got)
	}
	// crane pushes with the account; the anonymous token reads the result.
	pushAndCheck(t, r, toolEnv(t, r), http.Header{"Authorization": {"Bearer " + token}})

	anonymous := append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
	if _, err := crane(t, anonymous, "digest", r.Ref("ocitest/app")+":v1"); err != nil {
		t.Errorf("anonymous pull: %v", err)
	}
	path, _ := imageTarball(t, r.Ref("ocitest/app")+":v2")
	if _, err := crane(t, anonymous, "push", path, r.Ref("ocitest/app")+":v2"); err == nil {
		t.Error("an anonymous push succeeded")
	}
}

func TestTokenPasswordGrant(t *testing.T) {
	r := Start(t, Options{Auth: TokenAuth})
	form := url.Values{"grant_type": {"password"}, "username": {r.Username}, "password": {r.Password},
		"service": {r.TokenServer.Service}, "scope": {"repository:ocitest/app:pull registry:catalog:*"}, "client_id": {"test"}}
	resp, err := r.HTTPClient().PostForm(r.TokenServer.Realm, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("password grant: %s %v", resp.Status, err)
	}
	wantStatus(t, r.HTTPClient(), r.URL+"/v2/_catalog", http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, http.StatusOK)
}

func TestNewFailsWhenTheRegistryCannotStart(t *testing.T) {
	_, err := New(Options{Binary: "/bin/false"})
	if err == nil || !strings.Contains(err.Error(), "exited before it listened") {
		t.Errorf("New with a binary that exits: %v", err)
	}
	_, err = New(Options{Binary: filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("New with a missing binary: %v", err)
	}
}

func TestSharedRegistryWithNew(t *testing.T) {
	r, err := New(Options{Binary: RegistryBinary(t)})
	if err != nil {
		t.Fatal(err)
	}
	dir := r.StorageDir
	wantStatus(t, r.HTTPClient(), r.URL+"/v2/", nil, http.StatusOK)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("storage %s left behind: %v", dir, err)
	}
	if _, _, err := get(t, &http.Client{}, r.URL+"/v2/", nil); err == nil {
		t.Error("the registry still answers after Close")
	}
	if err := r.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func TestParseAccessLine(t *testing.T) {
	line := `127.0.0.1 - - [06/Dec/2025:22:51:00 +0000] "HEAD /v2/a/b/manifests/v1?x=1 HTTP/1.1" 200 0 "" "crane/v0.22.1 go-containerregistry/v0.22.1 \"quoted\""`
	got, ok := parseAccessLine(line)
	want := Request{Method: "HEAD", URI: "/v2/a/b/manifests/v1?x=1", Status: 200, UserAgent: `crane/v0.22.1 go-containerregistry/v0.22.1 "quoted"`}
	if !ok || got != want {
		t.Errorf("parse: %+v %v, want %+v", got, ok, want)
	}
	if _, ok := parseAccessLine(`{"level":"info","msg":"listening on 127.0.0.1:5000"}`); ok {
		t.Error("a JSON log line parsed as a request")
	}
	if n, ok := markOf("/v2/?ocitest-mark=7"); !ok || n != 7 {
		t.Errorf("markOf: %d %v", n, ok)
	}
	if _, ok := markOf("/v2/app/tags/list?ocitest-mark=7"); ok {
		t.Error("a mark outside /v2/")
	}
}

func TestParseScope(t *testing.T) {
	for scope, want := range map[string]string{
		"repository:app:pull,push":           "repository app [pull push]",
		"repository:a/b/c:pull,pull":         "repository a/b/c [pull]",
		"repository(plugin):x:pull":          "repository x [pull]",
		"registry:catalog:*":                 "registry catalog [*]",
		"repository:127.0.0.1:5000/app:pull": "repository 127.0.0.1:5000/app [pull]",
	} {
		a, ok := parseScope(scope)
		if got := fmt.Sprint(a.Type, " ", a.Name, " ", a.Actions); !ok || got != want {
			t.Errorf("parseScope(%q) = %q %v, want %q", scope, got, ok, want)
		}
	}
	for _, bad := range []string{"", "repository", "repository:app", "repository:app:", ":app:pull"} {
		if _, ok := parseScope(bad); ok {
			t.Errorf("parseScope(%q) accepted", bad)
		}
	}
}

// TestCosignBinary builds bin/cosign (minutes on a cold cache, once: later
// runs find it) and checks it runs: the proof the signing tests' tool is
// there.
func TestCosignBinary(t *testing.T) {
	out, err := exec.Command(CosignBinary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("cosign version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "v3.1.3") {
		t.Errorf("cosign version:\n%s\nwant v3.1.3", out)
	}
}

// TestRegistryBehaviour pins what the package documents about bin/registry
// and the OCI tests rely on: tags are paged with `n` and a Link header, and
// there is no referrers API.
func TestRegistryBehaviour(t *testing.T) {
	r := Start(t, Options{})
	env := toolEnv(t, r)
	pushAndCheck(t, r, env, nil)
	for _, tag := range []string{"v2", "v3"} {
		if _, err := crane(t, env, "tag", r.Ref("ocitest/app")+":v1", tag); err != nil {
			t.Fatal(err)
		}
	}
	resp, body, err := get(t, r.HTTPClient(), r.URL+"/v2/ocitest/app/tags/list?n=2", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("tags page: %v %v", err, resp)
	}
	var page struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	link := resp.Header.Get("Link")
	if fmt.Sprint(page.Tags) != "[v1 v2]" || !strings.Contains(link, "last=v2") || !strings.Contains(link, `rel="next"`) {
		t.Errorf("first page %v, Link %q; want [v1 v2] and a next link after v2", page.Tags, link)
	}

	digest, err := crane(t, env, "digest", r.Ref("ocitest/app")+":v1")
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err = get(t, r.HTTPClient(), r.URL+"/v2/ocitest/app/referrers/"+digest, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("referrers API answered %s, want 404 (none)", resp.Status)
	}
}
