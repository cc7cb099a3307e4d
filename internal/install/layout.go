package install

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/controller/names"
)

// SplitDeployments name the Deployment (and ServiceAccount) of each
// controller in the split layout: Flux's names, so that Flux's habits
// (kubectl logs deploy/kustomize-controller, a flux-system Kustomization
// with serviceAccountName: kustomize-controller under lockdown) still work.
var SplitDeployments = splitDeployments()

// splitDeployments maps every group of Flux's, implemented or not, so that
// a group the image gains (source-watcher) is named as soon as it runs.
func splitDeployments() map[string]string {
	m := map[string]string{}
	for _, g := range names.All {
		m[g] = names.Deployment(g)
	}
	return m
}

// AllDeployments are the controller Deployment names of every layout, for
// commands that find an install without knowing its layout.
func AllDeployments() []string {
	names := []string{DeploymentName}
	for _, c := range Implemented {
		names = append(names, SplitDeployments[c])
	}
	return names
}

// The flags --multi-tenant gives the applier: Flux's multi-tenancy lockdown.
var lockdownArgs = []string{
	"--no-cross-namespace-refs=true",
	"--no-remote-bases=true",
	"--default-service-account=default",
}

// IsSplit tells whether the options install the split layout.
func (o Options) IsSplit() bool { return o.Split || o.MultiTenant }

// Deployments are the names of the controller Deployments the options
// install, each with the ServiceAccount of the same name.
func (o Options) Deployments() ([]string, error) {
	run, _, err := o.Controllers()
	if err != nil {
		return nil, err
	}
	if !o.IsSplit() {
		return []string{DeploymentName}, nil
	}
	var names []string
	for _, c := range run {
		names = append(names, SplitDeployments[c])
	}
	return names, nil
}

// Stale are the objects of the other layout that the options' layout does
// not replace: switching from single to split (or back) deletes them, so
// that two sets of controllers do not reconcile side by side. Objects both
// layouts name (the CRDs, the namespace, the cluster-reconciler binding)
// are not stale: the apply updates them. Components dropped within a
// layout are left alone, as Flux leaves them, and so is what they need.
// The web UI's objects the options leave out are stale too: --web=false
// removes the UI, and an install without --web-auth-proxy-ca-secret
// revokes the right to impersonate that an earlier one granted.
func Stale(o Options) ([]*unstructured.Unstructured, error) {
	return stale(o, Implemented)
}

// stale is Stale with the list of the groups driftless-controller runs.
func stale(o Options, implemented []string) ([]*unstructured.Unstructured, error) {
	all := o
	all.Components, all.ComponentsExtra = nil, nil
	for _, c := range implemented {
		all.Components = append(all.Components, names.Deployment(c))
	}
	current, err := render(all, implemented)
	if err != nil {
		return nil, err
	}
	other := all
	other.Split, other.MultiTenant = !o.IsSplit(), false
	other = withEveryWebObject(other)
	previous, err := render(other, implemented)
	if err != nil {
		return nil, err
	}
	sameLayout, err := render(withEveryWebObject(all), implemented)
	if err != nil {
		return nil, err
	}
	previous = append(previous, sameLayout...)
	var stale []*unstructured.Unstructured
	for _, obj := range previous {
		if !slices.ContainsFunc(current, func(c *unstructured.Unstructured) bool { return sameObject(c, obj) }) &&
			!slices.ContainsFunc(stale, func(c *unstructured.Unstructured) bool { return sameObject(c, obj) }) {
			stale = append(stale, obj)
		}
	}
	return stale, nil
}

// withEveryWebObject is o with the UI and its authenticating-proxy mode
// on, so that it renders every web object an earlier install may have
// left. The Secrets' names do not change any object's name.
func withEveryWebObject(o Options) Options {
	o.Web = true
	if o.WebAuthProxyCASecret == "" {
		o.WebTLSSecret, o.WebAuthProxyCASecret = "web-tls", "web-tls"
	}
	return o
}

func sameObject(a, b *unstructured.Unstructured) bool {
	return a.GroupVersionKind().GroupKind() == b.GroupVersionKind().GroupKind() &&
		a.GetNamespace() == b.GetNamespace() && a.GetName() == b.GetName()
}
