package helmkube_test

import (
	"testing"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var env *testcluster.Cluster

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{NoCRDs: true}, &env) }
