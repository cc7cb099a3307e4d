package sops

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// sopsCLI is the real sops command line the interoperability tests and the
// fixtures are checked against: the version that wrote testdata/encrypted.
//
// It is built from its own module with `go install pkg@version`, outside this
// module's go.mod, as the project builds its other test tools. A go.mod
// `tool` directive would pull sops's dependency graph (the AWS, GCP and Azure
// SDKs, gRPC) into the main module's build list and, by minimum version
// selection, upgrade modules linked into flux and driftless-controller
// (circl, golang.org/x/time, json-iterator, genproto, ...): a test tool would
// change the shipped binaries. The first build compiles that graph once (about
// three minutes on two cores); later runs only relink from the build cache.
const sopsCLI = "github.com/getsops/sops/v3/cmd/sops@v3.13.3"

var sopsBuild struct {
	once sync.Once
	dir  string // temporary GOBIN, removed by TestMain
	bin  string
	err  error
}

// sopsBinary returns the path of the real sops binary: SOPS_BINARY when set,
// else sopsCLI built once per test run. A build failure fails the caller's
// test: an interoperability check that cannot run must be seen, not skipped.
func sopsBinary(t *testing.T) string {
	t.Helper()
	bin, err := findSops()
	if err != nil {
		t.Fatalf("the sops interoperability check needs the real sops CLI "+
			"(set SOPS_BINARY to use an installed one): %v", err)
	}
	return bin
}

// findSops is sopsBinary without a test, for -update in TestMain.
func findSops() (string, error) {
	if bin := os.Getenv("SOPS_BINARY"); bin != "" {
		return bin, nil
	}
	b := &sopsBuild
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "driftless-sops-")
		if b.err != nil {
			return
		}
		// Run outside the module so its go.mod plays no part; the Go
		// module proxy is all the build needs.
		cmd := exec.Command("go", "install", sopsCLI)
		cmd.Dir = b.dir
		cmd.Env = append(os.Environ(), "GOBIN="+b.dir, "GOWORK=off")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.err = fmt.Errorf("go install %s: %w\n%s", sopsCLI, err, out.String())
			return
		}
		b.bin = filepath.Join(b.dir, "sops")
	})
	return b.bin, b.err
}

// removeSopsBuild deletes the temporary GOBIN, if sopsBinary made one.
func removeSopsBuild() {
	if sopsBuild.dir != "" {
		os.RemoveAll(sopsBuild.dir)
	}
}
