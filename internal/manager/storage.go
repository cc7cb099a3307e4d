package manager

import (
	"net"
	"os"
)

// Advertised is --storage-adv-addr, or this host's name with the port of
// --storage-addr, as Flux does: the address artifact URLs name.
func (o StorageOptions) Advertised() string {
	if o.AdvAddr != "" {
		return o.AdvAddr
	}
	_, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		port = "9090"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
