package manager

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// cgroupFiles writes files standing in for memory.max and memory.current.
func cgroupFiles(t *testing.T, limit, used string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	max, cur := filepath.Join(dir, "memory.max"), filepath.Join(dir, "memory.current")
	for p, v := range map[string]string{max: limit, cur: used} {
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return max, cur
}

// The watch runs below the threshold and stops the manager (returns
// ErrMemoryThreshold) once the use reaches it.
func TestOOMWatchStopsAtTheThreshold(t *testing.T) {
	max, cur := cgroupFiles(t, "1000", "900")
	w, err := NewOOMWatch(OOMWatchOptions{Interval: time.Millisecond, Threshold: 95, MaxPath: max, CurrentPath: cur}, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	// 94.9%: it keeps running while the use is read many times over.
	if err := os.WriteFile(cur, []byte("949"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("stopped below the threshold: %v", err)
	default:
	}
	if err := os.WriteFile(cur, []byte("950"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrMemoryThreshold) || !strings.Contains(err.Error(), "950 of 1000") {
			t.Errorf("stopped with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the watch did not stop at 95% of the limit")
	}
}

// Below the threshold, the watch ends with the manager, without error.
func TestOOMWatchEndsWithTheManager(t *testing.T) {
	max, cur := cgroupFiles(t, "1000", "10")
	w, err := NewOOMWatch(OOMWatchOptions{Interval: time.Millisecond, Threshold: 95, MaxPath: max, CurrentPath: cur}, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Start(ctx); err != nil {
		t.Errorf("ended with %v", err)
	}
	if w.NeedLeaderElection() {
		t.Error("only the leader would watch its memory")
	}
}

func TestOOMWatchRefusesWhatItCannotWatch(t *testing.T) {
	unlimited, cur := cgroupFiles(t, "max", "10")
	for _, tc := range []struct {
		o    OOMWatchOptions
		want string
	}{
		{OOMWatchOptions{Interval: time.Second, Threshold: 95, MaxPath: unlimited, CurrentPath: cur}, "sets no memory limit"},
		{OOMWatchOptions{Interval: time.Second, Threshold: 95, MaxPath: filepath.Join(t.TempDir(), "none"), CurrentPath: cur}, "--oom-watch-max-memory-path"},
		{OOMWatchOptions{Interval: time.Second, Threshold: 0, MaxPath: unlimited, CurrentPath: cur}, "--oom-watch-memory-threshold"},
		{OOMWatchOptions{Interval: time.Second, Threshold: 101, MaxPath: unlimited, CurrentPath: cur}, "--oom-watch-memory-threshold"},
		{OOMWatchOptions{Interval: time.Second, Threshold: 95, MaxPath: unlimited}, "or neither"},
	} {
		if _, err := NewOOMWatch(tc.o, logr.Discard()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want it to say %q", tc.o, err, tc.want)
		}
	}
}
