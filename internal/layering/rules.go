package layering

// Module is the import path of the Driftless module the rules speak about.
const Module = "github.com/driftless/driftless"

// controllerRuntime is every package of controller-runtime.
const controllerRuntime = "sigs.k8s.io/controller-runtime/..."

// helmKube is Helm's kube client package.
const helmKube = "helm.sh/helm/v4/pkg/kube"

// Rule forbids packages matching From to import, directly or through any
// chain of imports, a package matching Forbid. A pattern is an import path,
// or a path ending in "/..." for that path and everything beneath it, as the
// go command spells it.
type Rule struct {
	// Name says what the rule protects, for the report.
	Name   string
	From   []string
	Forbid []string
	// Direct makes only the packages' own imports count, not what those
	// import in turn: for a rule about the project's code whose
	// dependencies may do what it may not.
	Direct bool
	// Opaque lists packages whose own imports the rule does not follow:
	// third-party code the project cannot change and must use. A chain to a
	// forbidden package through one of them is accepted; every other chain
	// still counts.
	Opaque []string
}

// Rules returns the import rules of this module (see the Layout section of
// the design notes).
func Rules() []Rule {
	return []Rule{
		{
			Name:   "api/ never imports controller-runtime",
			From:   []string{Module + "/api/..."},
			Forbid: []string{controllerRuntime},
		},
		{
			// Every package under internal/engine, so a new engine is
			// covered the day it is added.
			Name:   "engines never import controller-runtime",
			From:   []string{Module + "/internal/engine/..."},
			Forbid: []string{controllerRuntime},
			// Helm's kube client, which the Helm engines wrap, imports
			// controller-runtime's apiutil and, through its status waiter,
			// its client: accepted, as Helm's own choice.
			Opaque: []string{helmKube},
		},
		{
			// The catalogue serves the command line and the web UI alike.
			Name:   "the kind catalogue is plain Go: no cobra, no controller-runtime",
			From:   []string{Module + "/internal/kinds"},
			Forbid: []string{controllerRuntime, "github.com/spf13/cobra/..."},
		},
		{
			// flux install reads the groups' names; the manager registers them.
			Name:   "the controller group names are plain Go",
			From:   []string{Module + "/internal/controller/names"},
			Forbid: []string{controllerRuntime, Module + "/internal/manager/..."},
		},
		{
			// Flux's own modules are the reference to match, never code
			// to run; Helm's SDK imports one of them (its status waiter),
			// which is accepted: only our own imports count.
			Name:   "no Driftless package imports a Flux module",
			From:   []string{Module + "/..."},
			Forbid: []string{"github.com/fluxcd/..."},
			Direct: true,
		},
		{
			// flux ui serves these pages from these informers: the UI and
			// its user-credential store must not pull in what the CLI may
			// not link. (The controller's cache-backed store lives in its
			// own package, outside this rule.)
			Name:   "the web UI and flux ui's informer store are plain client-go",
			From:   []string{Module + "/internal/web", Module + "/internal/web/auth", Module + "/internal/web/informerstore"},
			Forbid: []string{controllerRuntime, Module + "/internal/manager/..."},
		},
		{
			Name:   "flux never links the controller manager",
			From:   []string{Module + "/cmd/flux"},
			Forbid: []string{Module + "/internal/manager/..."},
		},
		{
			// What linking the manager drags in, reached any other way
			// (the reconcile kit imports controller-runtime's root package,
			// which imports all three): the CLI needs controller-runtime's
			// client only.
			Name: "flux never links leader election or the controller metrics",
			From: []string{Module + "/cmd/flux"},
			Forbid: []string{
				"sigs.k8s.io/controller-runtime/pkg/manager/...",
				"sigs.k8s.io/controller-runtime/pkg/leaderelection/...",
				"sigs.k8s.io/controller-runtime/pkg/metrics/...",
				"k8s.io/client-go/tools/leaderelection/...",
			},
		},
	}
}

// Patterns returns the From patterns of rules, for go list.
func Patterns(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.From...)
	}
	return out
}
