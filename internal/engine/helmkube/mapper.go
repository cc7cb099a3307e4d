package helmkube

import (
	"sync/atomic"

	"k8s.io/client-go/restmapper"
)

// resettingMapper is the Target's RESTMapper. Resetting it (Helm does after
// it installs a chart's CRDs, health's Checker does once when a kind is not
// found) also invalidates the shared discovery client it reads, and is
// counted.
type resettingMapper struct {
	*restmapper.DeferredDiscoveryRESTMapper
	resets *atomic.Int64
}

// Reset forgets every mapping and the discovery client's cache.
func (m *resettingMapper) Reset() {
	m.resets.Add(1)
	m.DeferredDiscoveryRESTMapper.Reset()
}
