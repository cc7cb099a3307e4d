// Package names lists the Flux controller groups in plain Go, so that the
// flux CLI (which must not link the controller manager) and the manager read
// the same list: --controllers, flux install's --components, the split
// layout's Deployments.
package names

// All are Flux's controller groups, in Flux's order, as --controllers
// spells them.
var All = []string{"source", "kustomize", "helm", "notification", "image-reflector", "image-automation", "source-watcher"}

// Implemented are the groups driftless-controller runs today, in the order
// of All; internal/controller.All() registers exactly these.
var Implemented = []string{"source", "kustomize", "helm", "notification", "image-reflector", "image-automation", "source-watcher"}

// Deployment is Flux's name of a group's controller, "source-controller";
// source-watcher, a later addition, is named without the suffix.
func Deployment(group string) string {
	if group == SourceWatcher {
		return group
	}
	return group + "-controller"
}

// SourceWatcher is the group of ArtifactGenerators, which Flux installs
// only with --components-extra.
const SourceWatcher = "source-watcher"
