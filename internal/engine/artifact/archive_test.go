package artifact

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/engine/ignore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestArchiveFormat(t *testing.T) {
	s := newTestStorage(t, nil)
	src := t.TempDir()
	writeTree(t, src, map[string]file{
		"README.md":          {content: "hello\n"},
		"bin/run.sh":         {content: "#!/bin/sh\n", mode: 0o755},
		"deploy/app.yaml":    {content: "kind: x\n", mode: 0o666},
		"deploy/a-b/c.yaml":  {content: "c\n"},
		"empty/":             {},
		"z/secret":           {content: "s", mode: 0o400},
		"deploy/.hidden.yml": {content: "h"},
	})
	outside := t.TempDir()
	writeTree(t, outside, map[string]file{"passwd": {content: "root:x:0:0"}})
	if err := os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(src, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("README.md", filepath.Join(src, "link-in")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(src, "dir-link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}

	rel := s.ArtifactPath("GitRepository", "flux-system", "podinfo", sha1Hex+".tar.gz")
	a, err := s.Archive(src, rel, nil)
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	local, _ := s.LocalPath(rel)
	entries, gzHeader := readTarGz(t, local)

	wantNames := []string{
		"README.md", "bin/", "bin/run.sh", "deploy/", "deploy/.hidden.yml", "deploy/a-b/",
		"deploy/a-b/c.yaml", "deploy/app.yaml", "empty/", "z/", "z/secret",
	}
	if got := entryNames(entries); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("entries = %q\nwant      %q", got, wantNames)
	}
	wantModes := map[string]int64{
		"README.md": 0o600, "bin/": 0o750, "bin/run.sh": 0o700, "deploy/app.yaml": 0o600, "z/secret": 0o600,
	}
	for _, e := range entries {
		h := e.hdr
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d %q:%q, want 0:0 and no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(time.Unix(0, 0)) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: times %v %v %v, want the epoch and no atime/ctime", h.Name, h.ModTime, h.AccessTime, h.ChangeTime)
		}
		if want, ok := wantModes[h.Name]; ok && h.Mode != want {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want)
		}
		if strings.HasSuffix(h.Name, "/") != (h.Typeflag == tar.TypeDir) {
			t.Errorf("%s: type %q", h.Name, string(h.Typeflag))
		}
		if h.Typeflag != tar.TypeDir && h.Typeflag != tar.TypeReg {
			t.Errorf("%s: type %q, want only files and directories", h.Name, string(h.Typeflag))
		}
	}
	if entries[0].content != "hello\n" {
		t.Errorf("README.md content = %q", entries[0].content)
	}
	if gzHeader.Name != "" || !gzHeader.ModTime.IsZero() || gzHeader.Comment != "" {
		t.Errorf("gzip header = %+v, want no name, time or comment", gzHeader)
	}

	data, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := "sha256:" + hex.EncodeToString(sum[:]); a.Digest != want {
		t.Errorf("Digest = %s, want %s", a.Digest, want)
	}
	if a.Size == nil || *a.Size != int64(len(data)) {
		t.Errorf("Size = %v, want %d", a.Size, len(data))
	}
	if a.Path != "gitrepository/flux-system/podinfo/"+sha1Hex+".tar.gz" {
		t.Errorf("Path = %s", a.Path)
	}
	if want := "http://source-controller.flux-system.svc.cluster.local./" + a.Path; a.URL != want {
		t.Errorf("URL = %s, want %s", a.URL, want)
	}
	if !a.LastUpdateTime.Time.Equal(fixedNow) || a.Revision != "" {
		t.Errorf("LastUpdateTime = %v, Revision = %q", a.LastUpdateTime, a.Revision)
	}
	if info, err := os.Stat(local); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("artifact file mode = %v, %v; want 0600", info.Mode(), err)
	}
	if err := s.Verify(a); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// goldenTree is the fixed tree whose archive digest is pinned in testdata.
func goldenTree(t *testing.T, dir string, fileMode, dirMode os.FileMode, mtime time.Time) {
	t.Helper()
	files := []struct {
		name, content string
		exec          bool
	}{
		{"README.md", "# golden\n", false},
		{"deploy/base/kustomization.yaml", "resources:\n- app.yaml\n", false},
		{"deploy/base/app.yaml", "apiVersion: v1\nkind: ConfigMap\n", false},
		{"deploy/prod/patch.yaml", strings.Repeat("x", 3000), false},
		{"scripts/build.sh", "#!/bin/sh\necho hi\n", true},
		{strings.Repeat("long-name/", 12) + "file.txt", "long", false},
		{"unicodé/ファイル.txt", "utf8", false},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := fileMode
		if f.exec {
			mode |= 0o100
		}
		if err := os.WriteFile(p, []byte(f.content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Set the directory modes and every time last, deepest first.
	var paths []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && p != dir {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		p := paths[i]
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			if err := os.Chmod(p, dirMode); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func TestArchiveDeterministic(t *testing.T) {
	variants := []struct {
		name              string
		fileMode, dirMode os.FileMode
		mtime             time.Time
		umask             int
	}{
		{"0644 files, 0755 dirs, 2001", 0o644, 0o755, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), 0o022},
		{"0600 files, 0700 dirs, now", 0o600, 0o700, time.Now(), 0o077},
		{"0664 files, 0775 dirs, 1999", 0o664, 0o775, time.Date(1999, 12, 31, 23, 59, 59, 999, time.UTC), 0o002},
		{"0444 files, 0755 dirs, 2030", 0o444, 0o755, time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC), 0},
	}
	var first string
	var firstBytes []byte
	for i, v := range variants {
		// Each variant runs in its own storage with its own umask, so the
		// temporary and final files are created under different umasks.
		old := syscall.Umask(v.umask)
		s := newTestStorage(t, nil)
		src := t.TempDir()
		goldenTree(t, src, v.fileMode, v.dirMode, v.mtime)
		a, err := s.Archive(src, "gitrepository/ns/name/a.tar.gz", nil)
		syscall.Umask(old)
		if err != nil {
			t.Fatalf("%s: Archive: %v", v.name, err)
		}
		local, _ := s.LocalPath(a.Path)
		data, err := os.ReadFile(local)
		if err != nil {
			t.Fatal(err)
		}
		// Archiving the same tree again gives the same bytes.
		again, err := s.Archive(src, "gitrepository/ns/name/b.tar.gz", nil)
		if err != nil {
			t.Fatal(err)
		}
		if again.Digest != a.Digest {
			t.Errorf("%s: second run digest %s, first %s", v.name, again.Digest, a.Digest)
		}
		if i == 0 {
			first, firstBytes = a.Digest, data
			continue
		}
		if a.Digest != first || string(data) != string(firstBytes) {
			t.Errorf("%s: digest %s, want %s (same content)", v.name, a.Digest, first)
		}
	}

	// The golden digest pins the format across Go versions and machines.
	golden := filepath.Join("testdata", "archive.digest")
	if *update {
		if err := os.WriteFile(golden, []byte(first+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading %s (run with -update to create it): %v", golden, err)
	}
	if first != strings.TrimSpace(string(want)) {
		t.Errorf("archive digest %s, golden %s: the archive format changed", first, strings.TrimSpace(string(want)))
	}
}

func TestArchiveContentChangesDigest(t *testing.T) {
	s := newTestStorage(t, nil)
	mtime := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	base := t.TempDir()
	goldenTree(t, base, 0o644, 0o755, mtime)
	a, err := s.Archive(base, "gitrepository/ns/name/base.tar.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(dir string){
		"content": func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, "README.md"), []byte("# golden!\n"), 0o644)
		},
		"executable bit": func(dir string) { _ = os.Chmod(filepath.Join(dir, "README.md"), 0o755) },
		"new empty dir":  func(dir string) { _ = os.Mkdir(filepath.Join(dir, "new"), 0o755) },
		"rename":         func(dir string) { _ = os.Rename(filepath.Join(dir, "README.md"), filepath.Join(dir, "README")) },
	}
	for name, change := range changes {
		dir := t.TempDir()
		goldenTree(t, dir, 0o644, 0o755, mtime)
		change(dir)
		b, err := s.Archive(dir, "gitrepository/ns/name/changed.tar.gz", nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.Digest == a.Digest {
			t.Errorf("%s: digest unchanged", name)
		}
	}
}

func TestArchiveIgnoreRules(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]file
		spec  *string
		want  []string
	}{
		{
			name: "default exclusions",
			files: map[string]file{
				".git/HEAD": {content: "ref"}, ".git/objects/aa/bb": {content: "o"},
				".gitignore": {content: "x"}, "logo.png": {content: "p"}, ".github/workflows/ci.yml": {content: "c"},
				"deploy/app.yaml": {content: "a"}, "deploy/.sops.yaml": {content: "s"},
			},
			want: []string{"deploy/", "deploy/app.yaml"},
		},
		{
			name: "sourceignore and spec",
			files: map[string]file{
				".sourceignore": {content: "*.md\n"}, "README.md": {content: "r"}, "logo.png": {content: "p"},
				"deploy/app.yaml": {content: "a"}, "deploy/test/x.yaml": {content: "t"},
			},
			spec: strPtr("deploy/test/\n"),
			want: []string{".sourceignore", "deploy/", "deploy/app.yaml", "logo.png"},
		},
		{
			name: "a negated file inside an excluded directory comes back alone",
			files: map[string]file{
				"build/out.bin": {content: "o"}, "build/keep.yaml": {content: "k"}, "main.go": {content: "m"},
			},
			spec: strPtr("build/\n!build/keep.yaml\n"),
			want: []string{"build/keep.yaml", "main.go"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStorage(t, nil)
			src := t.TempDir()
			writeTree(t, src, tt.files)
			m, err := ignore.Load(src, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			a, err := s.Archive(src, "gitrepository/ns/name/a.tar.gz", m)
			if err != nil {
				t.Fatal(err)
			}
			local, _ := s.LocalPath(a.Path)
			entries, _ := readTarGz(t, local)
			if got := entryNames(entries); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("entries = %q, want %q", got, tt.want)
			}
		})
	}
}

func strPtr(s string) *string { return &s }

func TestArchiveDigestAlgorithms(t *testing.T) {
	tests := []struct {
		algo   string
		hexLen int
	}{
		{"", 64},
		{"sha256", 64},
		{"sha384", 96},
		{"sha512", 128},
	}
	src := t.TempDir()
	writeTree(t, src, map[string]file{"a": {content: "a"}})
	for _, tt := range tests {
		s := newTestStorage(t, func(o *Options) { o.DigestAlgo = tt.algo })
		a, err := s.Archive(src, "gitrepository/ns/name/a.tar.gz", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := tt.algo
		if want == "" {
			want = "sha256"
		}
		algo, sum, err := ParseDigest(a.Digest)
		if err != nil || algo != want || len(sum) != tt.hexLen {
			t.Errorf("algo %q: digest %s (%v), want %s with %d hex characters", tt.algo, a.Digest, err, want, tt.hexLen)
		}
		if err := s.Verify(a); err != nil {
			t.Errorf("algo %q: Verify: %v", tt.algo, err)
		}
	}
}

func TestArchiveErrors(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]file{"big": {content: strings.Repeat("x", 10000)}, "small": {content: "x"}})
	tests := []struct {
		name     string
		max      int64
		maxFiles int
		dir, rel string
		want     string
	}{
		{name: "missing dir", dir: filepath.Join(src, "nope"), rel: "k/n/o/a.tar.gz", want: "archiving " + filepath.Join(src, "nope")},
		{name: "dir is a file", dir: filepath.Join(src, "small"), rel: "k/n/o/a.tar.gz", want: "not a directory"},
		{name: "escaping path", dir: src, rel: "../a.tar.gz", want: `artifact path "../a.tar.gz" escapes the storage root`},
		{name: "absolute path", dir: src, rel: "/etc/a.tar.gz", want: "is absolute"},
		{name: "reserved name", dir: src, rel: "k/n/o/.lock", want: "file names starting with '.' are reserved"},
		{name: "no directory", dir: src, rel: "a.tar.gz", want: "is not inside an object directory"},
		{name: "too large", dir: src, rel: "k/n/o/a.tar.gz", max: 4096, want: "archive exceeds the maximum size of 4096 bytes at big"},
		{name: "too many files", dir: src, rel: "k/n/o/a.tar.gz", maxFiles: 1, want: "archive holds more files than the maximum of 1 (--artifact-max-files) at small"},
	}
	// Exactly at the cap is fine: the tree holds two files.
	if _, err := newTestStorage(t, func(o *Options) { o.MaxArchiveFiles = 2 }).Archive(src, "k/n/o/a.tar.gz", nil); err != nil {
		t.Errorf("two files under a cap of 2: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStorage(t, func(o *Options) { o.MaxArchiveSize, o.MaxArchiveFiles = tt.max, tt.maxFiles })
			a, err := s.Archive(tt.dir, tt.rel, nil)
			if !errContains(err, tt.want) {
				t.Fatalf("Archive: %v, want an error containing %q", err, tt.want)
			}
			if a != nil {
				t.Errorf("Archive returned an artifact with the error")
			}
			assertNoFiles(t, s.Root())
		})
	}
}

// assertNoFiles fails when dir holds any file (directories are fine).
func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			t.Errorf("unexpected file left behind: %s", p)
		}
		return nil
	})
}
