package ocitest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables naming prebuilt binaries to use instead of the ones
// `make bin/<tool>` builds: Debian's docker-registry (same configuration
// format, older behaviour), an installed crane or cosign.
const (
	RegistryBinaryEnv = "OCITEST_REGISTRY_BIN"
	CraneBinaryEnv    = "OCITEST_CRANE_BIN"
	CosignBinaryEnv   = "OCITEST_COSIGN_BIN"
)

// RegistryBinary returns the path of the real registry (distribution v3),
// building bin/registry first when it is missing or of another version.
func RegistryBinary(t testing.TB) string {
	t.Helper()
	return toolBinary(t, "registry", RegistryBinaryEnv)
}

// CraneBinary returns the path of the real crane CLI, building bin/crane
// first when needed.
func CraneBinary(t testing.TB) string {
	t.Helper()
	return toolBinary(t, "crane", CraneBinaryEnv)
}

// CosignBinary returns the path of the real cosign CLI, building bin/cosign
// first when needed: minutes on a cold build cache, so only the tests that
// run cosign call this.
func CosignBinary(t testing.TB) string {
	t.Helper()
	return toolBinary(t, "cosign", CosignBinaryEnv)
}

func toolBinary(t testing.TB, name, env string) string {
	t.Helper()
	bin, err := Tool(name, env)
	if err != nil {
		// A check that cannot run must be seen, not skipped.
		t.Fatalf("ocitest: the test needs the real %s (set %s to use an installed one): %v", name, env, err)
	}
	return bin
}

var toolBuilds struct {
	mu   sync.Mutex
	done map[string]*toolBuild
}

type toolBuild struct {
	once sync.Once
	path string
	err  error
}

// Tool returns the value of env when set, else the path of bin/<name> in
// the repository, built with `make -s bin/<name>` at most once per process.
// An exclusive file lock per tool serialises the builds of test packages run
// in parallel, so each tool is compiled once; the make recipe itself does
// nothing when the binary already has the pinned version. It is the
// testing.TB-free form of RegistryBinary and friends, for a TestMain.
func Tool(name, env string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	toolBuilds.mu.Lock()
	if toolBuilds.done == nil {
		toolBuilds.done = map[string]*toolBuild{}
	}
	b := toolBuilds.done[name]
	if b == nil {
		b = &toolBuild{}
		toolBuilds.done[name] = b
	}
	toolBuilds.mu.Unlock()
	b.once.Do(func() { b.path, b.err = makeTool(name) })
	return b.path, b.err
}

func makeTool(name string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(bin, "."+name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock the %s build: %w", name, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway

	start := time.Now()
	cmd := exec.Command("make", "-s", "bin/"+name)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make bin/%s: %w\n%s", name, err, out.String())
	}
	if strings.Contains(out.String(), "go install") {
		fmt.Fprintf(os.Stderr, "ocitest: built bin/%s in %s\n", name, time.Since(start).Round(time.Second))
	}
	return filepath.Join(bin, name), nil
}

// repoRoot is the directory of the go.mod governing the working directory
// (a test runs in its package's directory), asked of the go command the
// build needs anyway; it must hold the Makefile with the tool targets.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("the working directory is not inside the Driftless module")
	}
	root := filepath.Dir(gomod)
	if _, err := os.Stat(filepath.Join(root, "Makefile")); err != nil {
		return "", fmt.Errorf("no Makefile beside %s to build the OCI tools: %w", gomod, err)
	}
	return root, nil
}
