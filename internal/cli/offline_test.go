package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// offlineFlux is the command line without a cluster: a kubeconfig that does
// not exist, an empty plugin directory and a plugin catalogue nobody serves.
type offlineFlux struct {
	root        *cobra.Command
	out, errOut *bytes.Buffer
}

func newOfflineFlux(t *testing.T) *offlineFlux {
	t.Helper()
	return newOfflineFluxEnv(t, nil)
}

// newOfflineFluxEnv is newOfflineFlux with these environment variables too.
func newOfflineFluxEnv(t *testing.T, extra map[string]string) *offlineFlux {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"HOME":                  dir,
		"FLUXCD_PLUGINS":        filepath.Join(dir, "plugins"),
		"FLUXCD_PLUGIN_CATALOG": "http://127.0.0.1:1/",
	}
	for k, v := range extra {
		env[k] = v
	}
	o := &offlineFlux{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	f := NewFactory(strings.NewReader(""), o.out, o.errOut)
	f.Getenv = func(k string) string { return env[k] }
	kubeconfig := filepath.Join(dir, "no-such-kubeconfig")
	f.Kube.KubeConfig = &kubeconfig
	o.root = NewRootCommand("v0.0.0-test", f)
	return o
}

func (o *offlineFlux) run(args ...string) error {
	o.root.SetArgs(args)
	return o.root.Execute()
}
