package helmtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// HelmBinaryEnv names an installed helm to use instead of bin/helm.
const HelmBinaryEnv = "HELMTEST_HELM_BIN"

// HelmBinary returns the path of the real helm CLI, building bin/helm with
// `make bin/helm` first when it is missing or of another version (once per
// process, under ocitest's file lock, so parallel test packages build it
// once).
func HelmBinary(t testing.TB) string {
	t.Helper()
	bin, err := ocitest.Tool("helm", HelmBinaryEnv)
	if err != nil {
		// A check that cannot run must be seen, not skipped.
		t.Fatalf("helmtest: the test needs the real helm (set %s to use an installed one): %v", HelmBinaryEnv, err)
	}
	return bin
}

// CLI runs the real helm with its cache, configuration and data in a
// directory of the test (HELM_CACHE_HOME, HELM_CONFIG_HOME,
// HELM_DATA_HOME), never the user's.
type CLI struct {
	Binary string
	// Home holds the cache, config and data directories.
	Home string
	// Env is the environment helm runs with.
	Env []string
}

// NewCLI is a helm CLI with fresh HELM_*_HOME directories.
func NewCLI(t testing.TB) *CLI {
	t.Helper()
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELM_") && !strings.HasPrefix(kv, "KUBECONFIG=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	return &CLI{Binary: HelmBinary(t), Home: home, Env: env}
}

// Run runs helm with args and returns its standard output; a failure ends
// the test with both outputs.
func (c *CLI) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.Try(args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Try runs helm with args and returns its combined output and error.
func (c *CLI) Try(args ...string) (string, error) {
	cmd := exec.Command(c.Binary, args...)
	cmd.Env = c.Env
	cmd.Dir = c.Home
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
