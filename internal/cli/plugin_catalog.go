package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"sigs.k8s.io/yaml"
)

// The plugin catalogue has Flux's format (cli.fluxcd.io/v1beta1, the
// fluxcd/plugins repository): under a base URL, catalog.yaml lists the
// plugins (kind PluginCatalog) and <name>.yaml describes one (kind Plugin):
// its binary name and, newest first, its versions with one archive per
// OS and architecture and the archive's sha256 digest.
const (
	pluginAPIVersion   = "cli.fluxcd.io/v1beta1"
	pluginKind         = "Plugin"
	pluginCatalogKind  = "PluginCatalog"
	pluginCatalogEnv   = "FLUXCD_PLUGIN_CATALOG"
	defaultCatalogBase = "https://github.com/fluxcd/plugins/releases/latest/download/"
	// maxCatalogBytes bounds a catalogue or manifest document.
	maxCatalogBytes = 10 << 20
)

// pluginCatalog is catalog.yaml.
type pluginCatalog struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Plugins    []catalogEntry `json:"plugins"`
}

type catalogEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Homepage    string `json:"homepage,omitempty"`
	Source      string `json:"source,omitempty"`
	License     string `json:"license,omitempty"`
}

// pluginManifest is <name>.yaml.
type pluginManifest struct {
	APIVersion  string          `json:"apiVersion"`
	Kind        string          `json:"kind"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Homepage    string          `json:"homepage,omitempty"`
	Source      string          `json:"source,omitempty"`
	Bin         string          `json:"bin"`
	Versions    []pluginVersion `json:"versions"`
}

type pluginVersion struct {
	Version   string           `json:"version"`
	Platforms []pluginPlatform `json:"platforms"`
}

type pluginPlatform struct {
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	URL      string `json:"url"`
	Checksum string `json:"checksum"`
	// ExtractPath is the binary's path inside the archive; when empty the
	// entry whose base name is the manifest's bin is taken.
	ExtractPath string `json:"extractPath,omitempty"`
}

// pluginReceipt records an installation, as flux-<name>.yaml next to the
// binary; plugins without one were installed by hand.
type pluginReceipt struct {
	Name        string         `json:"name"`
	Version     string         `json:"version"`
	InstalledAt string         `json:"installedAt"`
	Platform    pluginPlatform `json:"platform"`
}

// pluginNamePattern is what a plugin name may be: it becomes a command name
// and a file name.
var pluginNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// catalogClient reads the catalogue at base.
type catalogClient struct {
	base string
	http *http.Client
}

func newCatalogClient(f *Factory) *catalogClient {
	base := f.Getenv(pluginCatalogEnv)
	if base == "" {
		base = defaultCatalogBase
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &catalogClient{base: base, http: &http.Client{Timeout: f.Timeout}}
}

func (c *catalogClient) get(ctx context.Context, name string, into any) error {
	url := c.base + name
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("plugin catalogue URL %q (%s): %w", url, pluginCatalogEnv, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &catalogHTTPError{url: url, status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCatalogBytes+1))
	if err != nil {
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	if len(body) > maxCatalogBytes {
		return fmt.Errorf("%s is larger than %d bytes", url, maxCatalogBytes)
	}
	if err := yaml.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%s is not a plugin catalogue document: %w", url, err)
	}
	return nil
}

type catalogHTTPError struct {
	url    string
	status int
}

func (e *catalogHTTPError) Error() string {
	return fmt.Sprintf("fetching %s: HTTP %d", e.url, e.status)
}

// catalog fetches catalog.yaml.
func (c *catalogClient) catalog(ctx context.Context) (*pluginCatalog, error) {
	var cat pluginCatalog
	if err := c.get(ctx, "catalog.yaml", &cat); err != nil {
		return nil, err
	}
	if cat.APIVersion != pluginAPIVersion || cat.Kind != pluginCatalogKind {
		return nil, fmt.Errorf("%scatalog.yaml is %s %s, want %s %s", c.base, cat.APIVersion, cat.Kind, pluginAPIVersion, pluginCatalogKind)
	}
	return &cat, nil
}

// manifest fetches and checks <name>.yaml.
func (c *catalogClient) manifest(ctx context.Context, name string) (*pluginManifest, error) {
	var m pluginManifest
	if err := c.get(ctx, name+".yaml", &m); err != nil {
		if he, ok := err.(*catalogHTTPError); ok && he.status == http.StatusNotFound {
			return nil, fmt.Errorf("plugin %q is not in the catalogue %s (flux plugin search lists it)", name, c.base)
		}
		return nil, err
	}
	src := c.base + name + ".yaml"
	switch {
	case m.APIVersion != pluginAPIVersion || m.Kind != pluginKind:
		return nil, fmt.Errorf("%s is %s %s, want %s %s", src, m.APIVersion, m.Kind, pluginAPIVersion, pluginKind)
	case m.Name != name:
		return nil, fmt.Errorf("%s describes plugin %q, not %q", src, m.Name, name)
	case m.Bin != pluginPrefix+name:
		return nil, fmt.Errorf("%s names the binary %q: a plugin's binary must be %q", src, m.Bin, pluginPrefix+name)
	case len(m.Versions) == 0:
		return nil, fmt.Errorf("%s lists no version of plugin %q", src, name)
	}
	return &m, nil
}

// resolve picks the version (newest when empty; a "sha256:..." digest picks
// the version whose archive for this platform has it) and this platform's
// archive of it.
func (m *pluginManifest) resolve(want string) (*pluginVersion, *pluginPlatform, error) {
	goos, goarch := runtime.GOOS, runtime.GOARCH
	if strings.HasPrefix(want, "sha256:") {
		for i := range m.Versions {
			if p := m.Versions[i].platform(goos, goarch); p != nil && p.Checksum == want {
				return &m.Versions[i], p, nil
			}
		}
		return nil, nil, fmt.Errorf("no version of plugin %q has an archive for %s/%s with digest %s", m.Name, goos, goarch, want)
	}
	v := &m.Versions[0]
	if want != "" {
		v = nil
		var known []string
		for i := range m.Versions {
			known = append(known, m.Versions[i].Version)
			if strings.TrimPrefix(m.Versions[i].Version, "v") == strings.TrimPrefix(want, "v") {
				v = &m.Versions[i]
			}
		}
		if v == nil {
			return nil, nil, fmt.Errorf("plugin %q has no version %q: the catalogue has %s", m.Name, want, strings.Join(known, ", "))
		}
	}
	p := v.platform(goos, goarch)
	if p == nil {
		return nil, nil, fmt.Errorf("plugin %q %s has no archive for %s/%s", m.Name, v.Version, goos, goarch)
	}
	if p.ExtractPath != "" && !filepath.IsLocal(p.ExtractPath) {
		return nil, nil, fmt.Errorf("plugin %q %s: extractPath %q leaves the archive", m.Name, v.Version, p.ExtractPath)
	}
	return v, p, nil
}

func (v *pluginVersion) platform(goos, goarch string) *pluginPlatform {
	for i := range v.Platforms {
		if v.Platforms[i].OS == goos && v.Platforms[i].Arch == goarch {
			return &v.Platforms[i]
		}
	}
	return nil
}

// parsePluginRef splits name[@version|@sha256:digest] and checks the name.
func parsePluginRef(ref string) (name, version string, err error) {
	name, version, _ = strings.Cut(ref, "@")
	if !pluginNamePattern.MatchString(name) {
		return "", "", fmt.Errorf("invalid plugin name %q: use lowercase letters, digits and dashes (operator, operator@0.45.0)", name)
	}
	if strings.HasPrefix(version, "sha256:") && !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(version) {
		return "", "", fmt.Errorf("invalid digest %q: write it as sha256: and 64 lowercase hex digits", version)
	}
	return name, version, nil
}
