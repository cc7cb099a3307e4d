package kustomize

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestConfinedFS(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, map[string]string{
		"dir/a.yaml":   "a",
		"dir/link":     "symlink:" + secret,
		"dir/inside":   "symlink:a.yaml",
		"dir/sub/b.go": "b",
		"dirlink":      "symlink:" + outside,
	})
	fsys, err := newConfinedFS(root, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(fsys.root, "dir")
	fsys.setOverlay(filepath.Join(dir, "kustomization.yaml"), []byte("overlay"))
	fsys.setOverlay(filepath.Join(dir, "a.yaml"), []byte("replaced"))

	read := func(p string) (string, error) {
		data, err := fsys.ReadFile(p)
		return string(data), err
	}
	for path, want := range map[string]string{
		"dir/a.yaml": "replaced", filepath.Join(dir, "kustomization.yaml"): "overlay",
		"dir/sub/b.go": "b", "dir/inside": "a",
	} {
		if got, err := read(path); err != nil || got != want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, path := range []string{"dir/link", "dirlink/secret", secret, "../x", "dir/../../x"} {
		if _, err := read(path); !errors.Is(err, ErrPathEscapes) {
			t.Errorf("ReadFile(%s) error = %v, want ErrPathEscapes", path, err)
		}
		if fsys.Exists(path) || fsys.IsDir(path) {
			t.Errorf("%s is visible outside the root", path)
		}
	}
	if !fsys.Exists("dir/kustomization.yaml") || fsys.IsDir("dir/kustomization.yaml") || !fsys.IsDir("dir") {
		t.Error("overlay file or directory not seen as such")
	}
	names, err := fsys.ReadDir("dir")
	if want := []string{"a.yaml", "inside", "kustomization.yaml", "link", "sub"}; err != nil || !reflect.DeepEqual(names, want) {
		t.Errorf("ReadDir = %v, %v; want %v", names, err, want)
	}
	d, f, err := fsys.CleanedAbs("dir/kustomization.yaml")
	if err != nil || string(d) != dir || f != "kustomization.yaml" {
		t.Errorf("CleanedAbs = %s, %s, %v", d, f, err)
	}
	if d, f, err := fsys.CleanedAbs("dir/sub"); err != nil || string(d) != filepath.Join(dir, "sub") || f != "" {
		t.Errorf("CleanedAbs(dir) = %s, %s, %v", d, f, err)
	}
	file, err := fsys.Open("dir/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(file)
	info, _ := file.Stat()
	if string(data) != "overlay" || info.Size() != 7 || info.IsDir() || file.Close() != nil {
		t.Errorf("Open(overlay) read %q, size %d", data, info.Size())
	}
	if _, err := file.Write([]byte("x")); !errors.Is(err, errReadOnly) {
		t.Errorf("Write = %v", err)
	}
	globbed, err := fsys.Glob("dir/*")
	if want := []string{filepath.Join(root, "dir/a.yaml"), filepath.Join(root, "dir/inside"), filepath.Join(root, "dir/sub")}; err != nil || !reflect.DeepEqual(globbed, want) {
		t.Errorf("Glob = %v, %v; want %v", globbed, err, want)
	}
	var walked []string
	if err := fsys.Walk("dir", func(p string, _ os.FileInfo, err error) error {
		walked = append(walked, fsys.rel(p))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"dir", "dir/a.yaml", "dir/inside", "dir/link", "dir/sub", "dir/sub/b.go"}; !reflect.DeepEqual(walked, want) {
		t.Errorf("Walk visited %v, want %v", walked, want)
	}
	for name, err := range map[string]error{
		"Mkdir": fsys.Mkdir("dir/new"), "MkdirAll": fsys.MkdirAll("dir/x/y"),
		"WriteFile": fsys.WriteFile("dir/a.yaml", []byte("x")), "RemoveAll": fsys.RemoveAll(filepath.Join(root, "dir")),
	} {
		if !errors.Is(err, errReadOnly) {
			t.Errorf("%s = %v, want errReadOnly", name, err)
		}
	}
	if _, err := fsys.Create("dir/c"); !errors.Is(err, errReadOnly) {
		t.Errorf("Create = %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "dir/a.yaml")); err != nil || string(data) != "a" {
		t.Errorf("the artifact changed: %q, %v", data, err)
	}
}

func TestRemoteKind(t *testing.T) {
	for ref, want := range map[string][2]bool{
		"https://example.com/x.yaml":           {true, false},
		"HTTP://example.com/x.yaml":            {true, false},
		"ssh://git@host/org/repo":              {true, false},
		"git::https://host/org/repo":           {true, false},
		"git::host/org/repo":                   {true, false},
		"git@github.com:org/repo":              {true, false},
		"github.com/org/repo//path?ref=v1":     {true, false},
		"GitHub.com:org/repo":                  {true, false},
		"file:///srv/repo":                     {true, true},
		"git::file:///srv/repo":                {true, true},
		"../base":                              {false, false},
		"deploy.yaml":                          {false, false},
		"gitlab.com/org/repo":                  {false, false},
		"./github.com/vendored":                {false, false},
		"base@v1":                              {true, false}, // kustomize reads user@host
		"org.example.com/team/app/kustomize/x": {false, false},
	} {
		remote, file := remoteKind(ref)
		if remote != want[0] || file != want[1] {
			t.Errorf("remoteKind(%q) = %v, %v; want %v, %v", ref, remote, file, want[0], want[1])
		}
	}
}

func TestMergeVars(t *testing.T) {
	first := map[string]string{"a": "1", "b": "1", "c": "1"}
	second := map[string]string{"b": "2", "c": "2"}
	substitute := map[string]string{"c": "3", "d": "3"}
	got := MergeVars(substitute, first, second)
	want := map[string]string{"a": "1", "b": "2", "c": "3", "d": "3"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MergeVars = %v, want %v", got, want)
	}
	if first["b"] != "1" || second["c"] != "2" || len(substitute) != 2 {
		t.Fatal("MergeVars modified its inputs")
	}
	if got := MergeVars(nil); got == nil || len(got) != 0 {
		t.Fatalf("MergeVars(nil) = %v, want an empty map", got)
	}
}

func TestRelativize(t *testing.T) {
	fsys := &confinedFS{root: "/tmp/art-1"}
	for in, want := range map[string]string{
		"open /tmp/art-1/apps/a.yaml: denied": "open apps/a.yaml: denied",
		"'/tmp/art-1' is empty":               "'.' is empty",
		"see /tmp/art-12/x and /tmp/art-1":    "see /tmp/art-12/x and .",
		"nothing here":                        "nothing here",
	} {
		if got := relativize(fsys, in); got != want {
			t.Errorf("relativize(%q) = %q, want %q", in, got, want)
		}
	}
}
