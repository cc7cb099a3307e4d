package artifact

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rawRequest sends a request line as written, without any client-side
// cleaning, and returns the status and body.
func rawRequest(t *testing.T, addr, method, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, method+" "+target+" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServer(t *testing.T) {
	base := t.TempDir()
	s := newTestStorage(t, func(o *Options) { o.Root = filepath.Join(base, "storage") })
	const content = "artifact-content"
	a, err := s.Copy(strings.NewReader(content), "gitrepository/ns/n/abc.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Symlink(a.Path, "latest.tar.gz"); err != nil {
		t.Fatal(err)
	}
	const secret = "TOP-SECRET"
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	objDir := filepath.Join(s.Root(), "gitrepository", "ns", "n")
	if err := os.Symlink(filepath.Join(base, "secret"), filepath.Join(objDir, "escape.tar.gz")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../secret", filepath.Join(objDir, "relative-escape.tar.gz")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(s.Root(), "outside")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(objDir, ".tmp-x.tar.gz-1"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock("GitRepository", "ns", "n")
	if err != nil {
		t.Fatal(err)
	}
	unlock()

	srv := httptest.NewServer(NewHandler(s))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", "/gitrepository/ns/n/abc.tar.gz", 200, content},
		{"GET", "/gitrepository/ns/n/latest.tar.gz", 200, content},
		{"GET", "/gitrepository/ns/n/abc.tar.gz?x=1", 200, content},
		{"HEAD", "/gitrepository/ns/n/abc.tar.gz", 200, ""},
		{"POST", "/gitrepository/ns/n/abc.tar.gz", 405, ""},
		{"PUT", "/gitrepository/ns/n/abc.tar.gz", 405, ""},
		{"DELETE", "/gitrepository/ns/n/abc.tar.gz", 405, ""},
		{"GET", "/gitrepository/ns/n/missing.tar.gz", 404, ""},
		{"GET", "/", 404, ""},
		{"GET", "/gitrepository/ns/n/", 404, ""},
		{"GET", "/gitrepository/ns/n", 404, ""},
		{"GET", "/gitrepository/ns/n/.lock", 404, ""},
		{"GET", "/gitrepository/ns/n/.tmp-x.tar.gz-1", 404, ""},
		{"GET", "/gitrepository/ns/n/escape.tar.gz", 404, ""},
		{"GET", "/gitrepository/ns/n/relative-escape.tar.gz", 404, ""},
		{"GET", "/outside/secret", 404, ""},
		{"GET", "/../secret", 400, ""},
		{"GET", "/gitrepository/../../secret", 400, ""},
		{"GET", "/%2e%2e/secret", 400, ""},
		{"GET", "/gitrepository/%2E%2E/%2e%2e/secret", 400, ""},
		{"GET", "/..%2fsecret", 400, ""},
		{"GET", "/gitrepository%2fns%2fn%2fabc.tar.gz", 400, ""},
		{"GET", "/gitrepository/ns/n/./abc.tar.gz", 400, ""},
		{"GET", "/gitrepository//ns/n/abc.tar.gz", 404, ""},
		{"GET", "/..\\secret", 400, ""},
		{"GET", "/%00", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			status, body := rawRequest(t, addr, tt.method, tt.target)
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			if tt.status == 200 && body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if strings.Contains(body, secret) || strings.Contains(body, "partial") {
				t.Errorf("leaked: %q", body)
			}
		})
	}

	// Content-Length and Allow headers, through a normal client.
	resp, err := http.Head(srv.URL + "/gitrepository/ns/n/abc.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(content)) {
		t.Errorf("HEAD Content-Length = %q, want %d", got, len(content))
	}
	resp, err = http.Get(srv.URL + "/gitrepository/ns/n/latest.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ContentLength != int64(len(content)) {
		t.Errorf("GET Content-Length = %d, want %d", resp.ContentLength, len(content))
	}
	resp, err = http.Post(srv.URL+"/gitrepository/ns/n/abc.tar.gz", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow = %q", resp.Header.Get("Allow"))
	}
	// The file served is the artifact, whole.
	if err := s.Verify(a); err != nil {
		t.Error(err)
	}
}
