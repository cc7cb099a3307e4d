package s3test

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// freshRange is where ports come from, as in localcluster's port picker:
// below the kernel's ephemeral range, where outgoing connections take their
// local ports. A port the kernel hands out for "listen on :0" comes from that
// range, and between picking it and versitygw binding it a busy machine's
// outgoing connection could take it.
var freshRange = [2]int{20000, 32767}

// freshPort returns a port of 127.0.0.1 that was free a moment ago. The
// caller binds it later, so it must still handle "address already in use".
func freshPort() (int, error) {
	lo, hi := freshRange[0], freshRange[1]
	if low, ok := ephemeralLow(); ok && low-1 < hi {
		hi = low - 1
	}
	for range 256 {
		if hi < lo {
			break
		}
		port := lo + rand.IntN(hi-lo+1)
		if free(port) {
			return port, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, errors.New("no free port below the ephemeral range nor from the kernel: " + err.Error())
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// free says nothing listens on port of 127.0.0.1 right now.
func free(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
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
