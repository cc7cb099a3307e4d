package health_test

import (
	"flag"
	"testing"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	update = flag.Bool("update", false, "rewrite the golden files in testdata")
	env    *testcluster.Cluster
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{NoCRDs: true}, &env) }
