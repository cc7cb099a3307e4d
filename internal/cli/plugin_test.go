package cli

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// helloScript is a plugin: it prints its version and arguments, and exits
// with the code given after "exit".
func helloScript(version string) string {
	return "#!/bin/sh\nif [ \"$1\" = exit ]; then echo failing >&2; exit \"$2\"; fi\necho \"hello " + version + ": $*\"\n"
}

type archiveEntry struct {
	name, body, link string
}

func tarGz(t *testing.T, entries ...archiveEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.link != "" {
			h = &tar.Header{Name: e.name, Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: e.link}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipArchive(t *testing.T, entries ...archiveEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// pluginCatalogServer serves a catalogue in Flux's format: hello (0.2.0 as
// tar.gz, 0.1.0 as zip), and plugins whose archive must be refused.
type pluginCatalogServer struct {
	*httptest.Server
	files  map[string][]byte
	digest map[string]string // archive name -> sha256 hex
}

func newPluginCatalogServer(t *testing.T) *pluginCatalogServer {
	t.Helper()
	s := &pluginCatalogServer{files: map[string][]byte{}, digest: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := s.files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(s.Close)

	archive := func(name string, b []byte) {
		s.files["archives/"+name] = b
		s.digest[name] = sha256Hex(b)
	}
	archive("hello-0.2.0.tar.gz", tarGz(t, archiveEntry{name: "README.md", body: "hi"},
		archiveEntry{name: "flux-hello", body: helloScript("0.2.0")}))
	archive("hello-0.1.0.zip", zipArchive(t, archiveEntry{name: "dist/flux-hello", body: helloScript("0.1.0")}))
	archive("evil.tar.gz", tarGz(t, archiveEntry{name: "flux-evil", body: helloScript("evil")},
		archiveEntry{name: "../../flux-evil", body: "#!/bin/sh\necho owned\n"}))
	archive("linky.tar.gz", tarGz(t, archiveEntry{name: "flux-linky", body: helloScript("linky")},
		archiveEntry{name: "passwd", link: "/etc/passwd"}))
	archive("badsum.tar.gz", tarGz(t, archiveEntry{name: "flux-badsum", body: helloScript("badsum")}))

	platform := func(archiveName, checksum string) string {
		return fmt.Sprintf("      - os: %s\n        arch: %s\n        url: %s/archives/%s\n        checksum: sha256:%s\n",
			runtime.GOOS, runtime.GOARCH, s.URL, archiveName, checksum)
	}
	manifest := func(name string, versions ...string) {
		m := "apiVersion: cli.fluxcd.io/v1beta1\nkind: Plugin\nname: " + name + "\ndescription: The " + name +
			" plugin\nbin: flux-" + name + "\nversions:\n" + strings.Join(versions, "")
		s.files[name+".yaml"] = []byte(m)
	}
	manifest("hello",
		"  - version: 0.2.0\n    platforms:\n"+platform("hello-0.2.0.tar.gz", s.digest["hello-0.2.0.tar.gz"]),
		"  - version: 0.1.0\n    platforms:\n"+platform("hello-0.1.0.zip", s.digest["hello-0.1.0.zip"]))
	manifest("evil", "  - version: 1.0.0\n    platforms:\n"+platform("evil.tar.gz", s.digest["evil.tar.gz"]))
	manifest("linky", "  - version: 1.0.0\n    platforms:\n"+platform("linky.tar.gz", s.digest["linky.tar.gz"]))
	manifest("badsum", "  - version: 1.0.0\n    platforms:\n"+platform("badsum.tar.gz", strings.Repeat("0", 64)))
	manifest("elsewhere", "  - version: 1.0.0\n    platforms:\n      - os: plan9\n        arch: mips\n        url: x\n        checksum: sha256:00\n")
	s.files["catalog.yaml"] = []byte(`apiVersion: cli.fluxcd.io/v1beta1
kind: PluginCatalog
plugins:
  - name: hello
    description: Says hello
    license: Apache-2.0
  - name: evil
    description: Escapes its archive
  - name: linky
    description: Links out of its archive
`)
	return s
}

func TestPluginLifecycle(t *testing.T) {
	srv := newPluginCatalogServer(t)
	dir := filepath.Join(t.TempDir(), "plugins")
	env := map[string]string{pluginDirEnv: dir, pluginCatalogEnv: srv.URL}
	flux := func(args ...string) (string, string, error) {
		o := newOfflineFluxEnv(t, env)
		err := o.run(args...)
		return o.out.String(), o.errOut.String(), err
	}

	out, _, err := flux("plugin", "search")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAME", "hello", "Says hello", "evil", "False"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugin search lacks %q:\n%s", want, out)
		}
	}
	if out, _, _ := flux("plugin", "search", "HELL"); !strings.Contains(out, "hello") || strings.Contains(out, "evil") {
		t.Errorf("plugin search HELL:\n%s", out)
	}

	// An older version, from a zip, then the plugin runs as flux hello.
	if _, errOut, err := flux("plugin", "install", "hello@0.1.0"); err != nil {
		t.Fatalf("install hello@0.1.0: %v\n%s", err, errOut)
	}
	info, err := os.Stat(filepath.Join(dir, "flux-hello"))
	if err != nil || info.Mode().Perm()&0o111 == 0 {
		t.Fatalf("flux-hello not installed as an executable: %v %v", info, err)
	}
	out, _, err = flux("hello", "world", "--flag", "-n", "x")
	if err != nil || out != "hello 0.1.0: world --flag -n x\n" {
		t.Errorf("flux hello: %q, %v", out, err)
	}
	_, errOut, err := flux("hello", "exit", "3")
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || !strings.Contains(errOut, "failing") {
		t.Errorf("flux hello exit 3: want exit code 3 and the plugin's stderr, got %v, %q", err, errOut)
	}
	out, _, _ = flux("plugin", "list")
	if !strings.Contains(out, "hello") || !strings.Contains(out, "0.1.0") || !strings.Contains(out, filepath.Join(dir, "flux-hello")) {
		t.Errorf("plugin list:\n%s", out)
	}
	if out, _, _ := flux("plugin", "search", "hello"); !strings.Contains(out, "True") {
		t.Errorf("plugin search after install:\n%s", out)
	}

	// update brings the latest, then has nothing to do.
	if out, errOut, err := flux("plugin", "update"); err != nil || !strings.Contains(out, "from 0.1.0 to 0.2.0") {
		t.Fatalf("update: %v\n%s%s", err, out, errOut)
	}
	if out, _, _ := flux("hello"); out != "hello 0.2.0: \n" {
		t.Errorf("after update: %q", out)
	}
	if out, _, err := flux("plugin", "update", "hello"); err != nil || !strings.Contains(out, "0.2.0 is the latest") {
		t.Errorf("second update: %v %s", err, out)
	}

	// A digest picks the version whose archive has it.
	if _, errOut, err := flux("plugin", "install", "hello@sha256:"+srv.digest["hello-0.1.0.zip"]); err != nil {
		t.Fatalf("install by digest: %v\n%s", err, errOut)
	}
	if out, _, _ := flux("hello"); out != "hello 0.1.0: \n" {
		t.Errorf("after install by digest: %q", out)
	}

	if _, _, err := flux("plugin", "uninstall", "hello"); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("uninstall left %v", left)
	}
	if _, _, err := flux("plugin", "uninstall", "hello"); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("second uninstall: %v", err)
	}
	if _, _, err := flux("hello"); err == nil || !strings.Contains(err.Error(), `unknown command "hello"`) {
		t.Errorf("flux hello after uninstall: %v", err)
	}
}

// TestPluginRefusals: archives that escape, digests that do not match and
// names that cannot be plugins are refused, and leave nothing behind.
func TestPluginRefusals(t *testing.T) {
	srv := newPluginCatalogServer(t)
	dir := filepath.Join(t.TempDir(), "plugins")
	env := map[string]string{pluginDirEnv: dir, pluginCatalogEnv: srv.URL + "/"}
	for _, tc := range []struct {
		ref, want string
	}{
		{"evil", `archive entry "../../flux-evil" escapes the plugin directory`},
		{"linky", `archive entry "passwd" links to "/etc/passwd"`},
		{"badsum", "has digest sha256:" + srv.digest["badsum.tar.gz"] + ", the catalogue says sha256:0000"},
		{"nosuch", `plugin "nosuch" is not in the catalogue`},
		{"hello@9.9.9", `plugin "hello" has no version "9.9.9": the catalogue has 0.2.0, 0.1.0`},
		{"hello@sha256:" + strings.Repeat("a", 64), "no version of plugin \"hello\""},
		{"hello@sha256:abc", "invalid digest"},
		{"elsewhere", "has no archive for " + runtime.GOOS + "/" + runtime.GOARCH},
		{"get", "`flux get` is a built-in command"},
		{"../hello", "invalid plugin name"},
	} {
		o := newOfflineFluxEnv(t, env)
		err := o.run("plugin", "install", tc.ref)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("install %s: want an error with %q, got %v", tc.ref, tc.want, err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("install %s left %v in the plugin directory", tc.ref, left)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(dir)), "flux-evil")); err == nil {
		t.Error("the escaping entry was written")
	}
}

// TestPluginDiscovery: only executables flux-<name> that are not built-in
// commands become commands; a plugin installed by hand is listed as such
// and left alone by update.
func TestPluginDiscovery(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(helloScript(name)), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("flux-manual", 0o755)
	write("flux-get", 0o755)
	write("flux-noexec", 0o644)
	write("flux-Bad_Name", 0o755)
	write("kubectl-other", 0o755)
	if err := os.Mkdir(filepath.Join(dir, "flux-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := newOfflineFluxEnv(t, map[string]string{pluginDirEnv: dir})
	var plugins []string
	for _, c := range o.root.Commands() {
		if _, ok := c.Annotations[pluginAnnotation]; ok {
			plugins = append(plugins, c.Name())
		}
	}
	if strings.Join(plugins, " ") != "manual" {
		t.Errorf("plugin commands %v, want [manual]", plugins)
	}
	if err := o.run("get", "--help"); err != nil || !strings.Contains(o.out.String(), "Get prints the status of Flux resources") {
		t.Errorf("flux-get replaced the built-in get: %v", err)
	}
	o = newOfflineFluxEnv(t, map[string]string{pluginDirEnv: dir})
	if err := o.run("plugin", "list"); err != nil || !strings.Contains(o.out.String(), "manual") {
		t.Errorf("plugin list: %v\n%s", err, o.out.String())
	}
	o = newOfflineFluxEnv(t, map[string]string{pluginDirEnv: dir})
	if err := o.run("plugin", "update"); err != nil || !strings.Contains(o.out.String(), "manual: installed by hand, skipped") {
		t.Errorf("plugin update: %v\n%s", err, o.out.String())
	}
	// Without FLUXCD_PLUGINS, the directory is ~/.fluxcd/plugins.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".fluxcd", "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".fluxcd", "plugins", "flux-athome"), []byte(helloScript("home")), 0o755); err != nil {
		t.Fatal(err)
	}
	o = newOfflineFluxEnv(t, map[string]string{pluginDirEnv: "", "HOME": home})
	if err := o.run("athome", "x"); err != nil || o.out.String() != "hello home: x\n" {
		t.Errorf("flux athome: %v %q", err, o.out.String())
	}
}
