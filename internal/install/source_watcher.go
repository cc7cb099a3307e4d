package install

import (
	"slices"
	"strings"

	"github.com/driftless/driftless/internal/controller/names"
)

// The source-watcher component (`--components-extra source-watcher`): the
// ArtifactGenerators' controller. In the single layout it is one more
// group in driftless-controller's --controllers, sharing the one storage
// and artifact server (the ExternalArtifacts it writes are served, like
// every source's, behind the source-controller Service), and its RBAC is
// the manager ClusterRole's, which covers source.extensions.fluxcd.io and
// source.toolkit.fluxcd.io whole. In the split layout it is Flux's
// source-watcher Deployment (manager/source-watcher_controller.yaml) with
// its own storage and server; the appliers then have to trust that server.
//
// Flux also gives kustomize- and helm-controller
// --feature-gates=ExternalArtifact=true when it installs source-watcher,
// their gate being off by default. Driftless's ExternalArtifact gate is on
// by default in both groups (internal/controller/kustomize, .../helm), so
// nothing is added here: only a user who set ExternalArtifact=false
// themselves has turned consumption off, and keeps it off.

// sourceWatcherAddr is the address of the split layout's source-watcher
// artifact server, as its Deployment advertises it (--storage-adv-addr).
func sourceWatcherAddr(o Options) string {
	return names.Deployment(names.SourceWatcher) + ".$(RUNTIME_NAMESPACE).svc." + strings.TrimSuffix(o.ClusterDomain, ".") + "."
}

// trustSourceWatcher adds the split layout's source-watcher server to the
// --artifact-servers of a Deployment that runs an applier (kustomize or
// helm): they download ExternalArtifacts from --storage-adv-addr and
// --artifact-servers only, and source-watcher's is neither. The value is
// extended in place when the Deployment already names a server
// (kustomize-controller trusts source-controller's), so that one flag
// lists every server.
func trustSourceWatcher(args []any, o Options, runs, controllers []string) []any {
	if !o.IsSplit() || !slices.Contains(controllers, names.SourceWatcher) || slices.Contains(runs, names.SourceWatcher) ||
		!(slices.Contains(runs, "kustomize") || slices.Contains(runs, "helm")) {
		return args
	}
	addr := sourceWatcherAddr(o)
	for i, a := range args {
		if s, ok := a.(string); ok && strings.HasPrefix(s, "--artifact-servers=") {
			args[i] = s + "," + addr
			return args
		}
	}
	return append(args, "--artifact-servers="+addr)
}

// sourceWatcherLockdown is what --multi-tenant gives the split layout's
// source-watcher: Flux's --no-cross-namespace-refs, so that a tenant's
// generator reads only the sources of its own namespace. (The applier's
// other lockdown flags, remote bases and default service accounts, do not
// concern it.)
func sourceWatcherLockdown(o Options, runs []string) []string {
	if !o.MultiTenant || !slices.Contains(runs, names.SourceWatcher) {
		return nil
	}
	return []string{"--no-cross-namespace-refs=true"}
}
