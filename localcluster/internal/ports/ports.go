// Package ports picks free TCP ports on the loopback interface for the
// components of a local cluster and remembers them between runs, so that a
// restarted cluster keeps its addresses whenever those ports are still free.
package ports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Host is the only address the components listen on.
const Host = "127.0.0.1"

// Set maps a component's listener name (such as "apiserver") to its port.
type Set map[string]int

// Load reads a Set saved by Save. A missing file is an empty Set; an
// unreadable or corrupt one is an error.
func Load(path string) (Set, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Set{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ports: %w", err)
	}
	set := Set{}
	if err := json.Unmarshal(data, &set); err != nil {
		// A damaged file only costs the old addresses: start afresh.
		return Set{}, nil
	}
	return set, nil
}

// Save writes the Set to path as JSON.
func (s Set) Save(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode ports: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write ports: %w", err)
	}
	return nil
}

// InUseError reports that a port that had to be used is taken.
type InUseError struct {
	Port int
	Err  error
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("port %d on %s is in use: %v", e.Port, Host, e.Err)
}

func (e *InUseError) Unwrap() error { return e.Err }

// Pick returns a port for every name. A port in fixed must be free, or Pick
// fails with an *InUseError. Otherwise the port in previous is kept when it is
// free, and a fresh one chosen by the kernel is used when it is not.
// All ports in the result are distinct.
func Pick(names []string, previous, fixed Set) (Set, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	// Holding every chosen port open until the end keeps the kernel from
	// handing out one port twice.
	hold := func(port int) error {
		l, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		held = append(held, l)
		return nil
	}
	out := Set{}
	taken := func(port int) bool {
		for _, p := range out {
			if p == port {
				return true
			}
		}
		return false
	}
	// Fixed ports first, so that a remembered port cannot claim them.
	for _, name := range names {
		port, ok := fixed[name]
		if !ok {
			continue
		}
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("port %d for %s is out of range 1-65535", port, name)
		}
		if err := hold(port); err != nil {
			return nil, &InUseError{Port: port, Err: err}
		}
		out[name] = port
	}
	for _, name := range names {
		if _, ok := out[name]; ok {
			continue
		}
		if port, ok := previous[name]; ok && port > 0 && port <= 65535 && !taken(port) && !reserved(fixed, port) {
			if hold(port) == nil {
				out[name] = port
				continue
			}
		}
		port, err := fresh(func(port int) bool {
			return !taken(port) && !reserved(fixed, port) && hold(port) == nil
		})
		if err != nil {
			return nil, fmt.Errorf("find a free port for %s: %w", name, err)
		}
		out[name] = port
	}
	return out, nil
}

// FreshRange is where fresh ports come from: below the kernel's ephemeral
// range. A port the kernel picks for "listen on port 0" comes from the
// ephemeral range, which is also where every outgoing connection takes its
// local port; between Pick and the moment a component binds (seconds later,
// after etcd and the API server are up), a busy machine's outgoing
// connection took such a port and the scheduler failed with "address
// already in use". Nothing takes a port below that range unless asked to.
var FreshRange = [2]int{20000, 32767}

// fresh tries random ports of FreshRange until use accepts one, and falls
// back to a port chosen by the kernel when the range is exhausted.
func fresh(use func(port int) bool) (int, error) {
	lo, hi := FreshRange[0], FreshRange[1]
	if low, ok := ephemeralLow(); ok && low-1 < hi {
		hi = low - 1
	}
	for range 256 {
		if hi < lo {
			break
		}
		port := lo + rand.IntN(hi-lo+1)
		if use(port) {
			return port, nil
		}
	}
	for range 16 {
		l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if use(port) {
			return port, nil
		}
	}
	return 0, errors.New("no free port below the ephemeral range nor from the kernel")
}

// ephemeralLow reads the first port of Linux's ephemeral range.
func ephemeralLow() (int, bool) {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0, false
	}
	low, err := strconv.Atoi(fields[0])
	return low, err == nil
}

func reserved(fixed Set, port int) bool {
	for _, p := range fixed {
		if p == port {
			return true
		}
	}
	return false
}
