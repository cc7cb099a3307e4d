package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// demoKustomizations are the Kustomizations bin/driftless-demo must bring to
// Ready: bootstrap's flux-system and the three of examples/fleet.
var demoKustomizations = []string{"flux-system", "infra-controllers", "infra-configs", "apps"}

// demoBuild builds bin/driftless-demo next to the flux and controller
// binaries TestMain built, with bin/localcluster linked beside them: the demo
// finds its helpers next to itself.
var demoBuild = sync.OnceValues(func() (string, error) {
	root, err := testcluster.RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", bins.dir+"/", "./cmd/driftless-demo")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/driftless-demo: %v\n%s", err, out)
	}
	lc, err := testcluster.Binary()
	if err != nil {
		return "", err
	}
	if err := os.Symlink(lc, filepath.Join(bins.dir, "localcluster")); err != nil && !os.IsExist(err) {
		return "", err
	}
	return filepath.Join(bins.dir, "driftless-demo"), nil
})

func demoCommand(t *testing.T, ctx context.Context, dataDir string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := demoBuild()
	if err != nil {
		t.Fatal(err)
	}
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--data-dir", dataDir, "--repo-root", root}, args...)...)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// checkSummary asserts that the demo's output reports every Kustomization
// Ready, in its own line and in `flux get all -A`.
func checkSummary(t *testing.T, out string) {
	t.Helper()
	if !strings.Contains(out, fmt.Sprintf("✔ all %d Kustomizations are Ready", len(demoKustomizations))) {
		t.Errorf("no all-Ready line in:\n%s", out)
	}
	for _, name := range demoKustomizations {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 5 && f[0] == "flux-system" && f[1] == "kustomization/"+name && f[4] == "True" {
				found = true
			}
		}
		if !found {
			t.Errorf("flux get all -A does not list kustomization/%s Ready in:\n%s", name, out)
		}
	}
	for _, want := range []string{"export KUBECONFIG=", "git clone http://driftless:", "flux get kustomizations -A -w"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q", want)
		}
	}
}

func TestDemoExitWhenReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	cmd := demoCommand(t, ctx, dataDir, "--exit-when-ready")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("driftless-demo --exit-when-ready: %v\n%s", err, out.String())
	}
	t.Logf("driftless-demo --exit-when-ready took %s", time.Since(began).Round(100*time.Millisecond))
	checkSummary(t, out.String())
	if left := processesUsing(dataDir); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}

func TestDemoInterrupt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	cmd := demoCommand(t, ctx, dataDir)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); exited <- err }()

	// Record every descendant of the demo while it runs.
	tracker := newProcTracker(cmd.Process.Pid)
	stopTracking := make(chan struct{})
	tracked := make(chan struct{})
	go func() {
		defer close(tracked)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			tracker.scan()
			select {
			case <-stopTracking:
				return
			case <-tick.C:
			}
		}
	}()

	var (
		mu     sync.Mutex
		output strings.Builder
	)
	running := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			mu.Lock()
			output.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if !signalled && strings.Contains(sc.Text(), "running; press Ctrl-C") {
				signalled = true
				close(running)
			}
		}
	}()
	snapshot := func() string { mu.Lock(); defer mu.Unlock(); return output.String() }

	select {
	case <-running:
	case err := <-exited:
		t.Fatalf("the demo exited before it was running: %v\n%s", err, snapshot())
	case <-time.After(8 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the demo was not running after 8 minutes:\n%s", snapshot())
	}
	checkDemoUI(t, snapshot(), dataDir)
	close(stopTracking)
	<-tracked
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGINT the demo exited with %v, want 0:\n%s", err, snapshot())
		}
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the demo did not exit within 3 minutes of SIGINT:\n%s", snapshot())
	}
	out := snapshot()
	checkSummary(t, out)
	for _, want := range []string{"✔ driftless-controller stopped", "✔ the Git server stopped", "✔ the local cluster stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q after SIGINT:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "stopping driftless-controller"), strings.Index(out, "stopping the local cluster"); i < 0 || j < i {
		t.Errorf("the controller was not stopped before the cluster:\n%s", out)
	}

	// localcluster runs etcd, kube-apiserver... as re-executions of itself;
	// /proc truncates names to 15 bytes.
	seen := tracker.seenNames()
	for _, want := range []string{"localcluster", "driftless-contr"} {
		if !seen[want] {
			t.Errorf("no %s process was seen among the demo's descendants: %v", want, seen)
		}
	}
	if !seen["git-http-backen"] {
		// Each lives for one request: polling may miss them all. Leftovers
		// are still found by processesUsing below (GIT_PROJECT_ROOT).
		t.Logf("no git http-backend process was caught while polling: %v", seen)
	}
	if alive := tracker.alive(); len(alive) > 0 {
		t.Errorf("processes the demo started are still running after it exited: %v", alive)
	}
	if left := processesUsing(dataDir); len(left) > 0 {
		t.Errorf("processes using the data directory are left behind (git http-backend, cluster, controller?): %v", left)
	}
}

// procInfo identifies a process across PID reuse by its start time.
type procInfo struct {
	pid   int
	comm  string
	start string
}

// procTracker records the descendants of a process from /proc.
type procTracker struct {
	root int
	mu   sync.Mutex
	// seen is the last process seen on each PID.
	seen map[int]procInfo
	// names are every name a descendant had: a child is seen under its
	// parent's name between fork and exec, then under its own.
	names map[string]bool
}

func newProcTracker(root int) *procTracker {
	return &procTracker{root: root, seen: map[int]procInfo{}, names: map[string]bool{}}
}

// readStat returns a process's name, parent PID and start time.
func readStat(pid int) (comm string, ppid int, start string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, "", false
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0, "", false
	}
	fields := strings.Fields(s[closing+1:]) // state ppid ... starttime is field 22 overall
	if len(fields) < 20 {
		return "", 0, "", false
	}
	ppid, _ = strconv.Atoi(fields[1])
	return s[open+1 : closing], ppid, fields[19], true
}

func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (p *procTracker) scan() {
	children := map[int][]int{}
	info := map[int]procInfo{}
	for _, pid := range allPIDs() {
		comm, ppid, start, ok := readStat(pid)
		if !ok {
			continue
		}
		children[ppid] = append(children[ppid], pid)
		info[pid] = procInfo{pid: pid, comm: comm, start: start}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	queue := []int{p.root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			// A PID reused by a new process, or the same process after
			// exec, replaces what was recorded.
			p.seen[c] = info[c]
			p.names[info[c].comm] = true
			queue = append(queue, c)
		}
	}
}

func (p *procTracker) seenNames() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.names)
}

// alive lists the recorded processes that still exist (same PID and start
// time), zombies excepted.
func (p *procTracker) alive() []procInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	var left []procInfo
	for pid, i := range p.seen {
		if _, _, start, ok := readStat(pid); ok && start == i.start && !isZombie(pid) {
			left = append(left, i)
		}
	}
	return left
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

// processesUsing lists the live processes whose command line or environment
// names dir: the cluster's components, the controller (--storage-path) and
// git http-backend (GIT_PROJECT_ROOT) all do.
func processesUsing(dir string) []string {
	var found []string
	for _, pid := range allPIDs() {
		if pid == os.Getpid() || isZombie(pid) {
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
			if err == nil && bytes.Contains(b, []byte(dir)) {
				comm, _, _, _ := readStat(pid)
				found = append(found, fmt.Sprintf("%d (%s)", pid, comm))
				break
			}
		}
	}
	return found
}
