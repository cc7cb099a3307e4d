// Package reliability is the fault suite: it runs the built
// driftless-controller as a process against a local cluster and breaks
// things under it — the API server stops in the middle of an apply, the
// controller is killed with SIGKILL in the middle of an apply or of a Helm
// upgrade, or stopped with SIGTERM in the middle of one, the artifact
// storage fills up, the Git server answers garbage, a stored artifact is
// altered, another field manager takes a field — and checks that it
// converges with nothing lost and nothing wrongly deleted. Bad input meets
// the live controller too: a YAML alias bomb, and Secrets whose values must
// never reach a condition, an event or the log.
//
// Each test records a row of docs/reliability.md. The tests always assert;
// with -update-report (or RELIABILITY_REPORT=1) the run also reruns the
// existing fault and bad-input tests of other packages and rewrites the
// report from what it observed.
package reliability

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/scheme"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// The suite's fixtures, set once by TestMain before any test runs.
var (
	env *testcluster.Cluster
	// kube is a client of env with the Driftless kinds registered.
	kube client.Client
	// controllerBin is bin/driftless-controller built for this run.
	controllerBin string
	// results collects the rows of the report.
	results = newRecorder()
)

var updateReport = flag.Bool("update-report", false, "rerun the catalogued tests and rewrite docs/reliability.md")

// reportWanted tells whether this run rewrites the report.
func reportWanted() bool { return *updateReport || os.Getenv("RELIABILITY_REPORT") == "1" }

func TestMain(m *testing.M) {
	flag.Parse()
	testcluster.Main(m, testcluster.Options{Setup: setup}, &env)
}

// setup builds the controller, connects the client and, after the tests,
// writes the report when asked.
func setup(c *testcluster.Cluster) (func(), error) {
	dir, err := os.MkdirTemp("", "driftless-reliability-bin-")
	if err != nil {
		return nil, err
	}
	root, err := testcluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	controllerBin = filepath.Join(dir, "driftless-controller")
	build := exec.Command("go", "build", "-o", controllerBin, "./cmd/driftless-controller")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	if kube, err = newClient(c); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return func() {
		defer os.RemoveAll(dir)
		if !reportWanted() {
			return
		}
		if err := writeReport(root, results.rows()); err != nil {
			fmt.Fprintf(os.Stderr, "reliability: report: %v\n", err)
			_ = c.Stop()
			os.Exit(1)
		}
	}, nil
}

func newClient(c *testcluster.Cluster) (client.Client, error) {
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	return client.New(c.Config, client.Options{Scheme: s})
}
