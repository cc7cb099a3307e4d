package manager

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestPprofOnlyWithTheFlag serves the metrics address as New configures it
// and asks it for the profile index: absent by default, served with
// --enable-pprof, and /metrics served either way.
func TestPprofOnlyWithTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, http.StatusNotFound},
		{[]string{"--enable-pprof"}, http.StatusOK},
	} {
		opts := parse(t, append([]string{"--metrics-addr=127.0.0.1:0"}, tc.args...)...)
		addr := serveMetrics(t, metricsOptions(opts))
		if got := httpStatus(t, "http://"+addr+"/debug/pprof/"); got != tc.want {
			t.Errorf("%v: /debug/pprof/ answered %d, want %d", tc.args, got, tc.want)
		}
		if got := httpStatus(t, "http://"+addr+"/metrics"); got != http.StatusOK {
			t.Errorf("%v: /metrics answered %d", tc.args, got)
		}
	}
}

// serveMetrics starts a metrics server with o until the test ends and
// returns the address it listens on.
func serveMetrics(t *testing.T, o metricsserver.Options) string {
	t.Helper()
	srv, err := metricsserver.NewServer(o, &rest.Config{}, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	bound, ok := srv.(interface{ GetBindAddr() string })
	if !ok {
		t.Fatal("the metrics server does not tell its address")
	}
	testcluster.Eventually(t, 10*time.Second, "the metrics server to listen", func() (bool, error) {
		return bound.GetBindAddr() != "", nil
	})
	return bound.GetBindAddr()
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
