package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// --feature-gates: a gate no selected controller knows, or one Driftless
// cannot honour, stops the process at start, saying which and why.
func TestFeatureGatesAreCheckedAtStart(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--feature-gates=NoSuchGate=true"}, []string{`unknown feature gate "NoSuchGate"`, "UseHelm3Defaults=false"}},
		{[]string{"--controllers=source", "--feature-gates=UseHelm3Defaults=true"}, []string{`unknown feature gate "UseHelm3Defaults"`}},
		{[]string{"--feature-gates=ObjectLevelWorkloadIdentity=true"}, []string{"ObjectLevelWorkloadIdentity=true is not supported", "workload identity"}},
		{[]string{"--feature-gates=OOMWatch=maybe"}, []string{"OOMWatch"}},
	} {
		out, err := exec.Command(bin, append(tc.args, "--kubeconfig", env.Kubeconfig(), "--metrics-addr=0", "--health-addr=0")...).CombinedOutput()
		if err == nil {
			t.Errorf("%v: started", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v: output %q does not say %q", tc.args, out, w)
			}
		}
	}
}

// OOMWatch: the process runs while its memory use (files standing in for
// the cgroup's) is below the threshold, and shuts down once it reaches it.
func TestOOMWatchShutsTheProcessDown(t *testing.T) {
	dir := t.TempDir()
	max, cur := filepath.Join(dir, "memory.max"), filepath.Join(dir, "memory.current")
	if err := os.WriteFile(max, []byte("1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cur, []byte("100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := start(t, "--controllers=helm", "--feature-gates=OOMWatch=true,AdoptLegacyReleases=true",
		"--oom-watch-interval=10ms", "--oom-watch-memory-threshold=90",
		"--oom-watch-max-memory-path="+max, "--oom-watch-current-memory-path="+cur)
	// Ready: the watch has read the use many times without stopping.
	testcluster.Eventually(t, time.Minute, "driftless-controller ready below the threshold", func() (bool, error) {
		select {
		case err := <-in.exited:
			return false, fmt.Errorf("exited below the threshold: %v", err)
		default:
		}
		code, _ := get("http://" + in.health + "/readyz")
		return code == 200, nil
	})
	if err := os.WriteFile(cur, []byte("900\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-in.exited:
		if err == nil {
			t.Error("exited without an error at the threshold")
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("still running at 90% of the limit")
	}
	log, _ := os.ReadFile(in.log.Name())
	for _, w := range []string{"memory use reached the threshold", "memory use reached the --oom-watch-memory-threshold", "AdoptLegacyReleases feature gate is deprecated"} {
		if !strings.Contains(string(log), w) {
			t.Errorf("the log does not say %q", w)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}
