package ports

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// occupy listens on a free loopback port until the test ends.
func occupy(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", Host+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", Host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestPickDistinctPorts(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	set, err := Pick(names, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, name := range names {
		port := set[name]
		if port == 0 || seen[port] {
			t.Fatalf("port for %s is %d; set %v", name, port, set)
		}
		seen[port] = true
	}
}

func TestPickKeepsFreePreviousPorts(t *testing.T) {
	prev := Set{"a": freePort(t), "b": freePort(t)}
	if prev["a"] == prev["b"] {
		t.Skip("kernel handed out the same port twice")
	}
	set, err := Pick([]string{"a", "b"}, prev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set["a"] != prev["a"] || set["b"] != prev["b"] {
		t.Errorf("Pick = %v, want the previous %v", set, prev)
	}
}

func TestPickReplacesTakenPreviousPort(t *testing.T) {
	taken := occupy(t)
	set, err := Pick([]string{"a"}, Set{"a": taken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set["a"] == taken || set["a"] == 0 {
		t.Errorf("Pick kept taken port %d: %v", taken, set)
	}
}

func TestPickPreviousDuplicatesAreResolved(t *testing.T) {
	port := freePort(t)
	set, err := Pick([]string{"a", "b"}, Set{"a": port, "b": port}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set["a"] == set["b"] {
		t.Errorf("two listeners share port %d", set["a"])
	}
}

func TestPickFixedPort(t *testing.T) {
	fixed := freePort(t)
	// The previous run of another listener used the port now required.
	set, err := Pick([]string{"other", "api"}, Set{"other": fixed}, Set{"api": fixed})
	if err != nil {
		t.Fatal(err)
	}
	if set["api"] != fixed || set["other"] == fixed {
		t.Errorf("Pick = %v, want api on %d and other elsewhere", set, fixed)
	}
}

func TestPickFixedPortInUse(t *testing.T) {
	taken := occupy(t)
	_, err := Pick([]string{"api"}, nil, Set{"api": taken})
	var inUse *InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("err = %v, want *InUseError", err)
	}
	want := "port " + strconv.Itoa(taken) + " on 127.0.0.1 is in use: "
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q does not start with %q", err, want)
	}
}

func TestPickFixedPortOutOfRange(t *testing.T) {
	if _, err := Pick([]string{"api"}, nil, Set{"api": 70000}); err == nil {
		t.Error("port 70000 accepted")
	}
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ports.json")
	empty, err := Load(path)
	if err != nil || len(empty) != 0 {
		t.Fatalf("Load(missing) = %v, %v; want empty", empty, err)
	}
	want := Set{"apiserver": 6443, "etcd-client": 2379}
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got["apiserver"] != 6443 || got["etcd-client"] != 2379 {
		t.Errorf("Load = %v, want %v", got, want)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(path); err != nil || len(got) != 0 {
		t.Errorf("Load(corrupt) = %v, %v; want empty set, no error", got, err)
	}
}

// A fresh port comes from below the ephemeral range, where no outgoing
// connection can take it between Pick and the component's bind.
func TestPickFreshPortsAvoidTheEphemeralRange(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	set, err := Pick(names, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	hi := FreshRange[1]
	if low, ok := ephemeralLow(); ok && low-1 < hi {
		hi = low - 1
	}
	for name, port := range set {
		if port < FreshRange[0] || port > hi {
			t.Errorf("port for %s is %d, outside %d-%d", name, port, FreshRange[0], hi)
		}
	}
}

func TestFreshFallsBackToTheKernel(t *testing.T) {
	saved := FreshRange
	t.Cleanup(func() { FreshRange = saved })
	FreshRange = [2]int{2, 1} // empty
	port, err := fresh(func(int) bool { return true })
	if err != nil || port == 0 {
		t.Fatalf("fresh = %d, %v; want a kernel port", port, err)
	}
}
