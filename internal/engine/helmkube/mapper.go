package helmkube

import (
	"errors"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/restmapper"
)

// resettingMapper is the Target's RESTMapper. Resetting it (Helm does after
// it installs a chart's CRDs, health's Checker does once when a kind is not
// found) also invalidates the shared discovery client it reads, and is
// counted.
//
// The Target keeps its discovery for as long as it lives, where Helm
// re-reads discovery at the start of every action. So a kind this mapper
// does not know may be one whose CRD was created since (by another release
// or by hand): before it answers "no match" for a kind of a given version,
// it asks the server, uncached, whether that group version serves the kind
// now, and if so resets and maps again. A kind that really is unknown costs
// one GET of its group version per mapping.
type resettingMapper struct {
	*restmapper.DeferredDiscoveryRESTMapper
	resets *atomic.Int64
	// live reads discovery without a cache.
	live discovery.DiscoveryInterface
}

// Reset forgets every mapping and the discovery client's cache.
func (m *resettingMapper) Reset() {
	m.resets.Add(1)
	m.DeferredDiscoveryRESTMapper.Reset()
}

// RESTMapping maps gk as the cached discovery knows it, then, on no match,
// after a reset if the server serves the kind now.
func (m *resettingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	mapping, err := m.DeferredDiscoveryRESTMapper.RESTMapping(gk, versions...)
	if err != nil && m.servedSince(err, gk, versions) {
		return m.DeferredDiscoveryRESTMapper.RESTMapping(gk, versions...)
	}
	return mapping, err
}

// RESTMappings is RESTMapping for every version.
func (m *resettingMapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	mappings, err := m.DeferredDiscoveryRESTMapper.RESTMappings(gk, versions...)
	if err != nil && m.servedSince(err, gk, versions) {
		return m.DeferredDiscoveryRESTMapper.RESTMappings(gk, versions...)
	}
	return mappings, err
}

// servedSince tells whether err is a no-match for gk which the server,
// asked now, does serve in one of versions; if so it resets the mapper.
// Without versions it does not ask (a whole-group lookup would read every
// group), and a nil live client never does. The group and version come from
// a manifest a tenant may write: only names Kubernetes accepts for them
// become a request path.
func (m *resettingMapper) servedSince(err error, gk schema.GroupKind, versions []string) bool {
	if m.live == nil || !meta.IsNoMatchError(err) {
		return false
	}
	var noKind *meta.NoKindMatchError
	if !errors.As(err, &noKind) {
		return false
	}
	if gk.Group != "" && len(validation.IsDNS1123Subdomain(gk.Group)) > 0 {
		return false
	}
	for _, v := range versions {
		if len(validation.IsDNS1035Label(v)) > 0 {
			continue
		}
		list, err := m.live.ServerResourcesForGroupVersion(schema.GroupVersion{Group: gk.Group, Version: v}.String())
		if err != nil || list == nil {
			continue
		}
		for _, r := range list.APIResources {
			if r.Kind == gk.Kind {
				m.Reset()
				return true
			}
		}
	}
	return false
}
