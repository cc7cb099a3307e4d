package testcluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// BinaryEnv names a prebuilt localcluster binary to use instead of building one.
const BinaryEnv = "LOCALCLUSTER_BIN"

const modulePath = "github.com/driftless/driftless"

// ExitCodeAnnotation, on a pod meant to finish (restartPolicy Never or
// OnFailure), makes localcluster's KWOK end it Failed with that non-zero
// exit code instead of Succeeded: how tests make a Helm hook or test pod
// fail. (localcluster/internal/kwokstage, another module, names it too.)
const ExitCodeAnnotation = "localcluster.driftless.dev/exit-code"

// RepoRoot returns the root of the Driftless repository, found by walking up
// from the working directory to the go.mod of the main module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isMainModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func isMainModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}

// Binary returns the path of an up-to-date localcluster binary, building it
// with `make bin/localcluster` when it is missing or older than its sources.
// An exclusive lock serialises builds between test packages run in parallel.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(root, "bin", ".localcluster.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock localcluster build: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway

	cmd := exec.Command("make", "-s", "bin/localcluster")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build localcluster: %w\n%s", err, out.String())
	}
	return filepath.Join(root, "bin", "localcluster"), nil
}
