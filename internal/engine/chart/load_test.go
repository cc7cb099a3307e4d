package chart

import (
	"archive/tar"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDirectoryThenItsPackage(t *testing.T) {
	tmp := t.TempDir()
	files := basicChart("demo", "1.2.3")
	files[".helmignore"] = "secret.txt\n"
	files["secret.txt"] = "do not ship"
	files["files/notes.txt"] = "shipped"
	c := mustLoad(t, writeChart(t, tmp, "demo", files))
	if c.Name() != "demo" || c.Version() != "1.2.3" {
		t.Fatalf("got %s %s, want demo 1.2.3", c.Name(), c.Version())
	}
	for _, f := range c.SDK().Files {
		if f.Name == "secret.txt" {
			t.Fatal(".helmignore not honoured: secret.txt loaded")
		}
	}
	archive, err := Package(c, nil, filepath.Join(tmp, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(archive) != "demo-1.2.3.tgz" {
		t.Fatalf("archive named %s", filepath.Base(archive))
	}
	p := mustLoad(t, archive)
	if p.Name() != "demo" || p.Version() != "1.2.3" || len(p.SDK().Templates) != 1 {
		t.Fatalf("reloaded %s %s with %d templates", p.Name(), p.Version(), len(p.SDK().Templates))
	}
	if p.SDK().Values["replicas"] != float64(1) {
		t.Fatalf("values not kept: %v", p.SDK().Values)
	}
}

func TestLoadLimits(t *testing.T) {
	tmp := t.TempDir()
	big := strings.Repeat("x", 2000)
	bigChart := basicChart("big", "1.0.0")
	bigChart["files/big.txt"] = big
	dir := writeChart(t, tmp, "big", bigChart)
	packed, err := Package(mustLoad(t, dir), nil, filepath.Join(tmp, "out"))
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 4096)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	noisy := basicChart("noisy", "1.0.0")
	noisy["files/noise.bin"] = string(noise)
	noisyPacked, err := Package(mustLoad(t, writeChart(t, tmp, "noisy", noisy)), nil, filepath.Join(tmp, "out"))
	if err != nil {
		t.Fatal(err)
	}
	// A subchart archive of 1 MB of zeros: small compressed, big loaded.
	bomb := makeTgz(t, tarEntry{name: "sub/Chart.yaml", body: chartYAML("sub", "0.1.0")},
		tarEntry{name: "sub/files/zeros", body: strings.Repeat("\x00", 1<<20)})
	bombDir := writeChart(t, tmp, "bomb", basicChart("bomb", "1.0.0"))
	if err := os.Mkdir(filepath.Join(bombDir, "charts"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(bombDir, "charts"), "sub.tgz", bomb)

	tests := []struct {
		name   string
		path   string
		limits Limits
		want   string
	}{
		{"directory file over the file limit", dir, Limits{MaxFileSize: 1000}, "file files/big.txt of 2000 bytes is over the maximum chart file size of 1000 bytes"},
		{"directory over the chart limit", dir, Limits{MaxSize: 1500, MaxFileSize: 5000}, "over the maximum chart size of 1500 bytes"},
		{"archive file over the file limit", packed, Limits{MaxFileSize: 1000}, "file files/big.txt of 2000 bytes is over the maximum chart file size of 1000 bytes"},
		{"archive content over the chart limit", packed, Limits{MaxSize: 1500, MaxFileSize: 5000}, "chart content is over the maximum chart size of 1500 bytes"},
		{"archive itself over the chart limit", noisyPacked, Limits{MaxSize: 3000, MaxFileSize: 8000}, "archive of"},
		{"vendored subchart expanding over the file limit", bombDir, Limits{MaxSize: 4 << 20, MaxFileSize: 64 << 10}, "subchart charts/sub.tgz: file files/zeros of 1048576 bytes is over the maximum chart file size"},
		{"vendored subchart expanding over the chart limit", bombDir, Limits{MaxSize: 512 << 10, MaxFileSize: 2 << 20}, "subchart charts/sub.tgz: chart content is over the maximum chart size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path, tt.limits)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Within the defaults every one of them loads.
	for _, p := range []string{dir, packed, noisyPacked, bombDir} {
		mustLoad(t, p)
	}
}

func TestLoadArchiveRefusesPathsOutOfTheChart(t *testing.T) {
	ok := tarEntry{name: "x/Chart.yaml", body: chartYAML("x", "1.0.0")}
	tests := []struct {
		name    string
		entry   tarEntry
		want    string
		illegal bool
	}{
		{"parent directory", tarEntry{name: "x/../../evil.yaml", body: "a"}, "illegal path 'x/../../evil.yaml'", true},
		{"absolute", tarEntry{name: "/etc/evil.yaml", body: "a"}, "illegal path '/etc/evil.yaml': is an absolute path", true},
		{"outside the top directory", tarEntry{name: "x/../evil.yaml", body: "a"}, "illegal path 'x/../evil.yaml'", true},
		{"backslash", tarEntry{name: `x\..\..\evil`, body: "a"}, "contains a backslash", true},
		{"symlink", tarEntry{name: "x/templates/link.yaml", typeflag: tar.TypeSymlink, link: "../../../etc/passwd"}, "illegal path 'x/templates/link.yaml': is a link to ../../../etc/passwd", true},
		{"hard link", tarEntry{name: "x/templates/hard.yaml", typeflag: tar.TypeLink, link: "/etc/passwd"}, "illegal path 'x/templates/hard.yaml': is a link", true},
		{"device", tarEntry{name: "x/dev", typeflag: tar.TypeChar}, "archive entry x/dev is not a regular file", false},
		{"twice", tarEntry{name: "x/Chart.yaml", body: chartYAML("x", "1.0.0")}, "archive entry x/Chart.yaml appears twice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "x-1.0.0.tgz", makeTgz(t, ok, tt.entry))
			_, err := Load(p, Limits{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("Load: got %v, want an error naming %s and containing %q", err, p, tt.want)
			}
			var ipe *IllegalPathError
			if errors.As(err, &ipe) != tt.illegal {
				t.Fatalf("IllegalPathError: got %v, want %v", errors.As(err, &ipe), tt.illegal)
			}
		})
	}
}

func TestLoadDirectorySymlinks(t *testing.T) {
	tmp := t.TempDir()
	outside := writeFile(t, tmp, "outside.yaml", []byte("secret: value\n"))
	if err := os.Mkdir(filepath.Join(tmp, "outdir"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("inside the chart is followed", func(t *testing.T) {
		dir := writeChart(t, t.TempDir(), "in", basicChart("in", "1.0.0"))
		writeFiles(t, dir, map[string]string{"shared/cm.yaml": "kind: ConfigMap\n"})
		if err := os.Symlink("../shared/cm.yaml", filepath.Join(dir, "templates", "linked.yaml")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("shared", filepath.Join(dir, "linkdir")); err != nil {
			t.Fatal(err)
		}
		c := mustLoad(t, dir)
		names := map[string]string{}
		for _, f := range append(c.SDK().Templates, c.SDK().Files...) {
			names[f.Name] = string(f.Data)
		}
		if names["templates/linked.yaml"] != "kind: ConfigMap\n" || names["linkdir/cm.yaml"] != "kind: ConfigMap\n" {
			t.Fatalf("links inside the chart not followed: %v", names)
		}
	})

	tests := []struct {
		name   string
		link   string
		target string
		want   string
	}{
		{"file outside", "templates/evil.yaml", outside, "illegal path 'templates/evil.yaml': is a symbolic link to " + outside + ", outside the chart"},
		{"directory outside", "templates/evil", filepath.Join(tmp, "outdir"), "illegal path 'templates/evil': is a symbolic link to"},
		{"relative outside", "values.yaml", "../../outside.yaml", "illegal path 'values.yaml'"},
		{"helmignore outside", ".helmignore", outside, "illegal path '.helmignore'"},
		{"cycle", "templates/loop", "..", "illegal path 'templates/loop': is a symbolic link to a directory that contains it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := basicChart("sym", "1.0.0")
			delete(files, "values.yaml")
			dir := writeChart(t, filepath.Join(tmp, strings.ReplaceAll(tt.name, " ", "-")), "sym", files)
			if err := os.Symlink(tt.target, filepath.Join(dir, filepath.FromSlash(tt.link))); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir, Limits{})
			var ipe *IllegalPathError
			if !errors.As(err, &ipe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: got %v, want an IllegalPathError containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadBrokenChartYAML(t *testing.T) {
	tests := []struct {
		name      string
		chartYAML string
		want      string
	}{
		{"not YAML", "apiVersion: v2\nname: [broken\n", "invalid Chart.yaml: error converting YAML to JSON"},
		{"no name", "apiVersion: v2\nversion: 1.0.0\n", "invalid Chart.yaml: validation: chart.metadata.name is required"},
		{"no version", "apiVersion: v2\nname: x\n", "invalid Chart.yaml: validation: chart.metadata.version is required"},
		{"bad version", "apiVersion: v2\nname: x\nversion: one\n", "invalid Chart.yaml: validation: chart.metadata.version \"one\" is invalid"},
		{"missing", "", "Chart.yaml not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			files := basicChart("x", "1.0.0")
			files["Chart.yaml"] = tt.chartYAML
			if tt.chartYAML == "" {
				delete(files, "Chart.yaml")
			}
			dir := writeChart(t, tmp, "x", files)
			var entries []tarEntry
			for name, body := range files {
				entries = append(entries, tarEntry{name: "x/" + name, body: body})
			}
			archive := writeFile(t, tmp, "x.tgz", makeTgz(t, entries...))
			for _, p := range []string{dir, archive} {
				_, err := Load(p, Limits{})
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
					t.Fatalf("Load(%s): got %v, want an error naming the chart and containing %q", p, err, tt.want)
				}
			}
		})
	}
}

func TestLoadArchiveFromMemory(t *testing.T) {
	data := makeTgz(t, tarEntry{name: "mem/Chart.yaml", body: chartYAML("mem", "0.1.0")})
	c, err := LoadArchive("https://charts.example/mem-0.1.0.tgz", data, t.TempDir(), Limits{})
	if err != nil || c.Name() != "mem" || c.Version() != "0.1.0" {
		t.Fatalf("LoadArchive: %v", err)
	}
	_, err = LoadArchive("https://charts.example/mem-0.1.0.tgz", data, "", Limits{MaxSize: 10})
	if err == nil || !strings.Contains(err.Error(), "https://charts.example/mem-0.1.0.tgz") {
		t.Fatalf("LoadArchive over the limit: got %v, want an error naming the source", err)
	}
	_, err = LoadArchive("x", []byte("not gzip"), "", Limits{})
	if err == nil || !strings.Contains(err.Error(), "not a gzip-compressed archive") {
		t.Fatalf("LoadArchive of garbage: got %v", err)
	}
}
