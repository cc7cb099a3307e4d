package chart

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeResolver serves archives by "<repo> <name>" and records every call.
type fakeResolver struct {
	charts map[string][]byte
	calls  []string
}

func (f *fakeResolver) Fetch(_ context.Context, repoURL, name, versionRange string) ([]byte, error) {
	f.calls = append(f.calls, fmt.Sprintf("%s %s %s", repoURL, name, versionRange))
	data, ok := f.charts[repoURL+" "+name]
	if !ok {
		return nil, fmt.Errorf("chart '%s' not found in %s", name, repoURL)
	}
	return data, nil
}

// packaged returns the archive of a basic chart.
func packaged(t *testing.T, name, version string) []byte {
	t.Helper()
	tmp := t.TempDir()
	p, err := Package(mustLoad(t, writeChart(t, tmp, name, basicChart(name, version))), nil, filepath.Join(tmp, "out"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// depNames returns the sorted names and versions of c's dependencies.
func depNames(c *Chart) []string {
	var out []string
	for _, d := range c.SDK().Dependencies() {
		out = append(out, d.Name()+"@"+d.Metadata.Version)
	}
	slices.Sort(out)
	return out
}

// parentChart writes, in the source root, charts/app depending on deps
// (Chart.yaml lines) and returns its directory.
func parentChart(t *testing.T, root, deps string) string {
	t.Helper()
	files := basicChart("app", "1.0.0")
	files["Chart.yaml"] = chartYAML("app", "1.0.0") + "dependencies:\n" + deps
	return writeChart(t, filepath.Join(root, "charts"), "app", files)
}

func TestBuildDependencies(t *testing.T) {
	root := t.TempDir()
	dir := parentChart(t, root, `
- name: vendored
  version: 0.1.0
- name: vendoredtgz
  version: "*"
- name: local
  version: ~2.0
  repository: file://../../libs/local
- name: localtgz
  version: 3.x
  repository: file://../../libs/localtgz-3.1.0.tgz
- name: remote
  version: ">=1.0.0 <2.0.0"
  repository: https://charts.example/stable
- name: remote
  alias: second
  version: ">=1.0.0 <2.0.0"
  repository: https://charts.example/stable
- name: ocichart
  repository: oci://registry.example/charts
`)
	writeFiles(t, dir, map[string]string{"charts/vendored/Chart.yaml": chartYAML("vendored", "0.1.0")})
	writeFile(t, filepath.Join(dir, "charts"), "vendoredtgz-1.0.0.tgz", packaged(t, "vendoredtgz", "1.0.0"))
	writeChart(t, filepath.Join(root, "libs"), "local", basicChart("local", "2.0.4"))
	writeFile(t, filepath.Join(root, "libs"), "localtgz-3.1.0.tgz", packaged(t, "localtgz", "3.1.0"))
	resolver := &fakeResolver{charts: map[string][]byte{
		"https://charts.example/stable remote":   packaged(t, "remote", "1.4.0"),
		"oci://registry.example/charts ocichart": packaged(t, "ocichart", "0.0.1"),
	}}

	c := mustLoad(t, dir)
	if err := BuildDependencies(context.Background(), c, root, resolver); err != nil {
		t.Fatal(err)
	}
	want := []string{"local@2.0.4", "localtgz@3.1.0", "ocichart@0.0.1", "remote@1.4.0", "vendored@0.1.0", "vendoredtgz@1.0.0"}
	if got := depNames(c); !slices.Equal(got, want) {
		t.Fatalf("dependencies %v, want %v", got, want)
	}
	wantCalls := []string{"https://charts.example/stable remote >=1.0.0 <2.0.0", "oci://registry.example/charts ocichart *"}
	if !slices.Equal(resolver.calls, wantCalls) {
		t.Fatalf("resolver calls %v, want %v (vendored and local ones never fetched, one fetch per chart)", resolver.calls, wantCalls)
	}

	// The packaged chart carries them, and loads back with all of them.
	p, err := Package(c, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := depNames(mustLoad(t, p)); !slices.Equal(got, want) {
		t.Fatalf("packaged dependencies %v, want %v", got, want)
	}
}

func TestBuildDependenciesFailures(t *testing.T) {
	remote := "https://charts.example/stable"
	tests := []struct {
		name    string
		deps    string
		want    string
		illegal bool
	}{
		{"remote absent", "- name: nothere\n  version: 1.x\n  repository: " + remote + "\n",
			"dependency 'nothere' (version '1.x') from '" + remote + "': chart 'nothere' not found in " + remote, false},
		{"remote out of range", "- name: remote\n  version: 2.x\n  repository: " + remote + "\n",
			"dependency 'remote' (version '2.x') from '" + remote + "': got version '1.4.0', outside the range", false},
		{"remote of another name", "- name: other\n  repository: " + remote + "\n",
			"dependency 'other' (version '') from '" + remote + "': got chart 'remote' instead", false},
		{"local missing", "- name: gone\n  repository: file://../gone\n",
			"dependency 'gone' (version '') from 'file://../gone': ", false},
		{"local outside the source", "- name: escape\n  repository: file://../../../escape\n",
			"illegal path 'file://../../../escape': leaves the source", true},
		{"local through a link out of the source", "- name: linked\n  repository: file://../linked\n",
			"illegal path 'file://../linked': is a symbolic link out of the source", true},
		{"local out of range", "- name: local\n  version: 9.x\n  repository: file://../local\n",
			"dependency 'local' (version '9.x') from 'file://../local': got version '2.0.4', outside the range", false},
		{"neither vendored nor given a repository", "- name: lost\n  version: 1.0.0\n",
			"dependency 'lost' (version '1.0.0') from 'charts/': not vendored in charts/ and no repository given", false},
		{"bad range", "- name: local\n  version: '>>1'\n  repository: file://../local\n",
			"invalid chart version range '>>1'", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := parentChart(t, root, tt.deps)
			writeChart(t, filepath.Join(root, "charts"), "local", basicChart("local", "2.0.4"))
			outside := writeChart(t, t.TempDir(), "linked", basicChart("linked", "1.0.0"))
			if err := os.Symlink(outside, filepath.Join(root, "charts", "linked")); err != nil {
				t.Fatal(err)
			}
			resolver := &fakeResolver{charts: map[string][]byte{remote + " remote": packaged(t, "remote", "1.4.0"), remote + " other": packaged(t, "remote", "1.4.0")}}
			err := BuildDependencies(context.Background(), mustLoad(t, dir), root, resolver)
			var de *DependencyError
			var ipe *IllegalPathError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) || errors.As(err, &ipe) != tt.illegal {
				t.Fatalf("got %v, want a DependencyError containing %q (illegal path: %v)", err, tt.want, tt.illegal)
			}
		})
	}
}

func TestBuildDependenciesWithoutResolverOrSource(t *testing.T) {
	root := t.TempDir()
	dir := parentChart(t, root, "- name: remote\n  repository: https://charts.example\n")
	err := BuildDependencies(context.Background(), mustLoad(t, dir), root, nil)
	if err == nil || !strings.Contains(err.Error(), "dependency 'remote' (version '') from 'https://charts.example': no chart repository resolver") {
		t.Fatalf("no resolver: got %v", err)
	}
	dir = parentChart(t, t.TempDir(), "- name: local\n  repository: file://../local\n")
	err = BuildDependencies(context.Background(), mustLoad(t, dir), "", nil)
	if err == nil || !strings.Contains(err.Error(), "needs the chart's source") {
		t.Fatalf("no source: got %v", err)
	}
}
