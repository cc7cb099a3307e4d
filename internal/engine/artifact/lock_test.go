package artifact

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestLockGoroutines(t *testing.T) {
	s := newTestStorage(t, nil)
	const workers, rounds = 8, 50
	var inside atomic.Int32
	counter := 0
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				unlock, err := s.Lock("GitRepository", "ns", "n")
				if err != nil {
					errs <- err
					return
				}
				if !inside.CompareAndSwap(0, 1) {
					errs <- fmt.Errorf("two holders at once")
				}
				counter++ // guarded by the lock only: the race detector checks it
				inside.Store(0)
				unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if counter != workers*rounds {
		t.Errorf("counter = %d, want %d", counter, workers*rounds)
	}
	if len(s.locks.keys) != 0 {
		t.Errorf("lock table keeps %d keys after every unlock", len(s.locks.keys))
	}
}

func TestTryLock(t *testing.T) {
	s := newTestStorage(t, nil)
	unlock, err := s.Lock("GitRepository", "ns", "n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "gitrepository/ns/n/.lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
	if _, ok, err := s.TryLock("GitRepository", "ns", "n"); ok || err != nil {
		t.Errorf("TryLock while held = %v, %v; want false", ok, err)
	}
	// Another object is independent.
	other, ok, err := s.TryLock("GitRepository", "ns", "other")
	if !ok || err != nil {
		t.Fatalf("TryLock of another object = %v, %v", ok, err)
	}
	other()
	unlock()
	unlock() // a second call is harmless
	again, ok, err := s.TryLock("GitRepository", "ns", "n")
	if !ok || err != nil {
		t.Fatalf("TryLock after unlock = %v, %v", ok, err)
	}
	again()

	// A second storage on the same root (another process, as far as the
	// file lock is concerned) sees the lock too.
	s2, err := NewStorage(Options{Root: s.Root(), AdvAddr: "x"})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err = s.Lock("GitRepository", "ns", "n")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s2.TryLock("GitRepository", "ns", "n"); ok {
		t.Error("a second storage took a held lock")
	}
	unlock()
	if u, ok, _ := s2.TryLock("GitRepository", "ns", "n"); !ok {
		t.Error("a second storage cannot take a free lock")
	} else {
		u()
	}

	// The object directory is recreated after removal.
	if err := s.RemoveAll("GitRepository", "ns", "n"); err != nil {
		t.Fatal(err)
	}
	unlock, err = s.Lock("GitRepository", "ns", "n")
	if err != nil {
		t.Fatalf("Lock after RemoveAll: %v", err)
	}
	unlock()

	if _, err := s.Lock("GitRepository", "ns", "../x"); !errContains(err, `invalid object name "../x"`) {
		t.Errorf("Lock with a bad name: %v", err)
	}
}

// TestMain runs the other process of TestLockAcrossProcesses when the
// test binary is started as that process, and the tests otherwise.
func TestMain(m *testing.M) {
	if root := os.Getenv("DRIFTLESS_LOCK_HELPER_ROOT"); root != "" {
		lockHelperProcess(root)
	}
	os.Exit(m.Run())
}

// lockHelperProcess holds or tries the lock of one object, then exits.
func lockHelperProcess(root string) {
	s, err := NewStorage(Options{Root: root, AdvAddr: "x"})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	switch os.Getenv("DRIFTLESS_LOCK_HELPER_MODE") {
	case "hold":
		unlock, err := s.Lock("GitRepository", "ns", "n")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // wait for the parent
		unlock()
	case "try":
		if u, ok, err := s.TryLock("GitRepository", "ns", "n"); err != nil {
			fmt.Println("error:", err)
		} else if ok {
			u()
			fmt.Println("acquired")
		} else {
			fmt.Println("busy")
		}
	}
	os.Exit(0)
}

func helper(t *testing.T, root, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DRIFTLESS_LOCK_HELPER_ROOT="+root, "DRIFTLESS_LOCK_HELPER_MODE="+mode)
	return cmd
}

func TestLockAcrossProcesses(t *testing.T) {
	s := newTestStorage(t, nil)

	// Another process holds the lock: this one cannot take it.
	holder := helper(t, s.Root(), "hold")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if _, ok, err := s.TryLock("GitRepository", "ns", "n"); ok || err != nil {
		t.Errorf("TryLock while another process holds the lock = %v, %v", ok, err)
	}
	// A blocking Lock waits for the other process to let go.
	acquired := make(chan func(), 1)
	go func() {
		unlock, err := s.Lock("GitRepository", "ns", "n")
		if err != nil {
			t.Error(err)
			close(acquired)
			return
		}
		acquired <- unlock
	}()
	_ = stdin.Close()
	if err := holder.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	unlock, ok := <-acquired
	if !ok {
		t.Fatal("Lock failed")
	}

	// This process holds the lock: another process cannot take it.
	out, err := helper(t, s.Root(), "try").Output()
	if err != nil || strings.TrimSpace(string(out)) != "busy" {
		t.Errorf("helper TryLock while held: %q, %v; want busy", out, err)
	}
	unlock()
	out, err = helper(t, s.Root(), "try").Output()
	if err != nil || strings.TrimSpace(string(out)) != "acquired" {
		t.Errorf("helper TryLock after unlock: %q, %v; want acquired", out, err)
	}
}
