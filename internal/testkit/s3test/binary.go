package s3test

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

// BinaryEnv names a prebuilt versitygw to use instead of bin/versitygw.
const BinaryEnv = "VERSITYGW_BIN"

// makeLine is what a person runs to get the binary the tests need.
const makeLine = "make bin/versitygw"

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of versitygw: $VERSITYGW_BIN when set, else
// bin/versitygw of the repository, built with `make -s bin/versitygw` at most
// once per process. An exclusive file lock serialises the builds of test
// packages run in parallel, so the gateway is compiled once; the make target
// does nothing while the binary exists. It takes no testing.TB so that a
// TestMain can call it.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s names %s: %w", BinaryEnv, p, err)
		}
		return p, nil
	}
	build.once.Do(func() { build.path, build.err = makeBinary() })
	return build.path, build.err
}

// binaryFor is Binary for a test: a missing binary that cannot be built
// fails the test under CI=true (a check that cannot run must be seen) and
// skips it elsewhere, naming the make line that provides it.
func binaryFor(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("s3test: the test needs versitygw and it could not be built (run `%s`, or set %s): %v", makeLine, BinaryEnv, err)
	}
	t.Skipf("s3test: versitygw is missing and could not be built; run `%s` (or set %s): %v", makeLine, BinaryEnv, err)
	return ""
}

// makeBinary runs `make -s bin/versitygw` under the build lock.
func makeBinary() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(bin, ".versitygw.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock the versitygw build: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway

	start := time.Now()
	cmd := exec.Command("make", "-s", "bin/versitygw")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", makeLine, err, out.String())
	}
	if strings.Contains(out.String(), "go install") {
		fmt.Fprintf(os.Stderr, "s3test: built bin/versitygw in %s\n", time.Since(start).Round(time.Second))
	}
	path := filepath.Join(bin, "versitygw")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s succeeded but left no %s: %w", makeLine, path, err)
	}
	return path, nil
}

// repoRoot is the directory of the go.mod governing the working directory
// (a test runs in its package's directory); it must hold the Makefile with
// the bin/versitygw target.
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
		return "", fmt.Errorf("no Makefile beside %s to build versitygw: %w", gomod, err)
	}
	return root, nil
}
