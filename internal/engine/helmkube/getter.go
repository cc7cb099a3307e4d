package helmkube

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// getter is the genericclioptions.RESTClientGetter Helm and kubectl's
// factory read a Target through. It hands out the Target's one discovery
// client and RESTMapper, and a fresh copy of its rest.Config each time
// (kubectl's factory changes the config it is given).
type getter struct {
	target    *Target
	namespace string
}

// ToRESTConfig returns a copy of the Target's config.
func (g *getter) ToRESTConfig() (*rest.Config, error) {
	return rest.CopyConfig(g.target.config), nil
}

// ToDiscoveryClient returns the Target's shared discovery client. Its
// Invalidate does nothing: Helm invalidates discovery at the start of every
// action to read the server's capabilities afresh, which is the per-action
// rebuild this package exists to avoid. Target.Invalidate, and a reset of
// the RESTMapper (which Helm does after installing a chart's CRDs), refresh it.
func (g *getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, _ := g.target.shared()
	return keptDiscovery{dc}, nil
}

// ToRESTMapper returns the Target's shared RESTMapper. Resetting it (Helm
// does after it installs a chart's CRDs) refreshes the shared discovery too.
func (g *getter) ToRESTMapper() (meta.RESTMapper, error) {
	_, mapper := g.target.shared()
	return mapper, nil
}

// ToRawKubeConfigLoader returns a loader whose namespace is the release's:
// Helm puts objects that name no namespace there.
func (g *getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return &loader{getter: g}
}

// keptDiscovery is the shared discovery client with Invalidate disabled.
type keptDiscovery struct {
	discovery.CachedDiscoveryInterface
}

// Invalidate does nothing; see getter.ToDiscoveryClient.
func (keptDiscovery) Invalidate() {}

// loader is the clientcmd.ClientConfig of a getter: the Target's config and
// the release's namespace. There is no kubeconfig file behind it.
type loader struct {
	getter *getter
}

// RawConfig is empty: the config was not read from a kubeconfig.
func (l *loader) RawConfig() (clientcmdapi.Config, error) {
	return *clientcmdapi.NewConfig(), nil
}

// ClientConfig returns a copy of the Target's config.
func (l *loader) ClientConfig() (*rest.Config, error) { return l.getter.ToRESTConfig() }

// Namespace returns the release's namespace, as if given explicitly.
func (l *loader) Namespace() (string, bool, error) {
	if l.getter.namespace == "" {
		return "default", false, nil
	}
	return l.getter.namespace, true, nil
}

// ConfigAccess has no files to offer.
func (l *loader) ConfigAccess() clientcmd.ConfigAccess {
	return clientcmd.NewDefaultClientConfigLoadingRules()
}
