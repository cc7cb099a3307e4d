package s3test

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Start survives a port taken between picking and binding it (the race
// localcluster's picker met): versitygw exits with "address already in
// use" and Start tries another port.
func TestStartRetriesATakenPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	taken := held.Addr().(*net.TCPAddr).Port
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 1 {
			return taken, nil
		}
		return freshPort()
	}
	defer func() { pickPort = freshPort }()

	s := Start(t, Options{})
	if calls != 2 || strings.HasSuffix(s.Endpoint, ":"+strconv.Itoa(taken)) {
		t.Fatalf("Start picked %d ports and listens on %s; want a second port other than the taken %d", calls, s.Endpoint, taken)
	}
	s.MakeBucket(t, "bkt")
}

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	mu             sync.Mutex
	fatal, skipped string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// A versitygw that is missing fails the test under CI=true and skips it
// elsewhere, both naming the make line.
func TestMissingBinaryFailsUnderCIElseSkips(t *testing.T) {
	t.Setenv(BinaryEnv, t.TempDir()+"/no-versitygw")
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			binaryFor(r)
		}()
		<-done
		got := r.skipped
		if ci == "true" {
			got = r.fatal
		}
		if got == "" || !strings.Contains(got, makeLine) {
			t.Fatalf("CI=%q: fatal %q, skipped %q; want the %s one naming %q", ci, r.fatal, r.skipped, map[string]string{"true": "fatal", "": "skip"}[ci], makeLine)
		}
	}
}
