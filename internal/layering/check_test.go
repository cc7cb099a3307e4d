package layering

import (
	"slices"
	"strings"
	"testing"
)

// graph builds a synthetic import graph from "pkg: import import..." lines.
func graph(lines ...string) []Package {
	var pkgs []Package
	for _, l := range lines {
		path, imports, _ := strings.Cut(l, ":")
		pkgs = append(pkgs, Package{ImportPath: strings.TrimSpace(path), Imports: strings.Fields(imports)})
	}
	return pkgs
}

func TestCheck(t *testing.T) {
	rule := Rule{Name: "no cr", From: []string{"m/api/...", "m/engine"}, Forbid: []string{"cr/..."}, Opaque: []string{"helm/kube"}}
	for _, c := range []struct {
		name string
		pkgs []Package
		want []string
	}{
		{
			name: "rules hold",
			pkgs: graph("m/api/a: m/api/b apimachinery", "m/api/b: apimachinery", "apimachinery:",
				"m/engine: apimachinery", "m/manager: cr/pkg/client", "cr/pkg/client:"),
		},
		{
			name: "direct import",
			pkgs: graph("m/engine: cr/pkg/client", "cr/pkg/client:"),
			want: []string{"no cr: m/engine -> cr/pkg/client"},
		},
		{
			name: "the root package of a forbidden tree",
			pkgs: graph("m/engine: cr", "cr:"),
			want: []string{"no cr: m/engine -> cr"},
		},
		{
			name: "transitive import, shortest chain reported once per package",
			pkgs: graph("m/api/a: m/api/b x", "m/api/b: x", "x: y cr/pkg/log", "y: cr/pkg/client", "cr/pkg/log:", "cr/pkg/client:",
				"m/engine:"),
			want: []string{"no cr: m/api/a -> x -> cr/pkg/log", "no cr: m/api/b -> x -> cr/pkg/log"},
		},
		{
			name: "a sibling with a common prefix is not under the tree",
			pkgs: graph("m/apifoo: cr", "cr:", "m/engine: crx", "crx:", "m/api/a:"),
		},
		{
			name: "an opaque package's imports are not followed, other chains are",
			pkgs: graph("m/engine: helm/kube x", "helm/kube: cr/pkg/client", "x: cr/pkg/log", "cr/pkg/client:", "cr/pkg/log:", "m/api/a: helm/kube"),
			want: []string{"no cr: m/engine -> x -> cr/pkg/log"},
		},
		{
			name: "cycles end",
			pkgs: graph("m/engine: a", "a: b", "b: a", "m/api/a:"),
		},
		{
			name: "a rule that matches no package fails",
			pkgs: graph("m/other: cr", "cr:"),
			want: []string{"no cr: the rule matches no package (renamed or deleted?)"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, v := range Check([]Rule{rule}, c.pkgs) {
				got = append(got, v.String())
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Check:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestRulesFailWhenBroken breaks each of the module's rules in an otherwise
// clean synthetic graph and checks that exactly that rule fails.
func TestRulesFailWhenBroken(t *testing.T) {
	const (
		api     = Module + "/api/meta"
		scheme  = Module + "/api/scheme"
		git     = Module + "/internal/engine/git"
		engine  = Module + "/internal/engine/kubeerr"
		cli     = Module + "/internal/cli"
		kinds   = Module + "/internal/kinds"
		flux    = Module + "/cmd/flux"
		kit     = Module + "/internal/reconcile"
		manager = Module + "/internal/manager"
		names   = Module + "/internal/controller/names"
		chart   = Module + "/internal/engine/chart"
		client  = "sigs.k8s.io/controller-runtime/pkg/client"
		cr      = "sigs.k8s.io/controller-runtime"
		webui   = Module + "/internal/web"
		store   = Module + "/internal/web/informerstore"
	)
	// clean has one package per engine and the CLI on controller-runtime's
	// client, as the module is meant to be.
	clean := []string{
		api + ": k8s.io/apimachinery/pkg/runtime", scheme + ": " + api + " k8s.io/client-go/kubernetes/scheme",
		flux + ": " + cli, cli + ": " + scheme + " " + client + " " + git + " " + kinds, client + ":",
		kinds + ": " + api + " k8s.io/apimachinery/pkg/runtime",
		manager + ": " + kit + " " + cr, kit + ": " + cr, cr + ": sigs.k8s.io/controller-runtime/pkg/manager",
		"sigs.k8s.io/controller-runtime/pkg/manager: sigs.k8s.io/controller-runtime/pkg/metrics", "sigs.k8s.io/controller-runtime/pkg/metrics:",
		names + ":",
		// Helm's SDK imports a Flux module; a package of ours may import Helm.
		// Helm's kube client imports controller-runtime: accepted for it alone.
		chart + ": helm.sh/helm/v4/pkg/kube", "helm.sh/helm/v4/pkg/kube: github.com/fluxcd/cli-utils/pkg/kstatus " + client,
		"github.com/fluxcd/cli-utils/pkg/kstatus:", "github.com/fluxcd/pkg/ssa:",
		// flux ui: the UI over informers, on client-go alone.
		webui + ": " + kinds + " k8s.io/client-go/rest", store + ": " + webui + " k8s.io/client-go/dynamic",
	}
	for _, e := range []string{"artifact", "git", "kustomize", "envsubst", "sops", "apply", "health", "ignore", "signature", "kubeerr"} {
		clean = append(clean, Module+"/internal/engine/"+e+": k8s.io/apimachinery/pkg/runtime")
	}
	if v := Check(Rules(), graph(clean...)); v != nil {
		t.Fatalf("the clean graph breaks the rules: %v", v)
	}

	for _, c := range []struct {
		name   string
		change string // replaces the line of the same package
		want   string
	}{
		{"the group names import the manager", names + ": " + manager,
			"the controller group names are plain Go: " + names + " -> " + manager},
		{"api imports controller-runtime", api + ": k8s.io/apimachinery/pkg/runtime " + client,
			"api/ never imports controller-runtime: " + api + " -> " + client},
		{"api imports the reconcile kit", scheme + ": " + api + " " + kit,
			"api/ never imports controller-runtime: " + scheme + " -> " + kit + " -> " + cr},
		{"an engine imports controller-runtime through another package", engine + ": " + git + " " + cli,
			"engines never import controller-runtime: " + engine + " -> " + cli + " -> " + client},
		{"the kind catalogue imports cobra", kinds + ": " + api + " github.com/spf13/cobra",
			"the kind catalogue is plain Go: no cobra, no controller-runtime: " + kinds + " -> github.com/spf13/cobra"},
		{"the kind catalogue imports controller-runtime", kinds + ": " + api + " " + client,
			"the kind catalogue is plain Go: no cobra, no controller-runtime: " + kinds + " -> " + client},
		{"the CLI links the manager", cli + ": " + scheme + " " + client + " " + manager,
			"flux never links the controller manager: " + flux + " -> " + cli + " -> " + manager},
		{"an engine imports controller-runtime beside Helm's kube client", chart + ": helm.sh/helm/v4/pkg/kube " + client,
			"engines never import controller-runtime: " + chart + " -> " + client},
		{"an engine imports a Flux module", engine + ": github.com/fluxcd/pkg/ssa",
			"no Driftless package imports a Flux module: " + engine + " -> github.com/fluxcd/pkg/ssa"},
		{"flux ui's informer store imports controller-runtime", store + ": " + webui + " " + client,
			"the web UI and flux ui's informer store are plain client-go: " + store + " -> " + client},
		{"the CLI links the reconcile kit", cli + ": " + scheme + " " + client + " " + kit,
			"flux never links leader election or the controller metrics: " + flux + " -> " + cli + " -> " + kit + " -> " + cr +
				" -> sigs.k8s.io/controller-runtime/pkg/manager"},
	} {
		t.Run(c.name, func(t *testing.T) {
			broken := slices.Clone(clean)
			name, _, _ := strings.Cut(c.change, ":")
			i := slices.IndexFunc(broken, func(l string) bool { return strings.HasPrefix(l, name+":") })
			if i < 0 {
				t.Fatalf("no package %s in the clean graph", name)
			}
			broken[i] = c.change
			var got []string
			for _, v := range Check(Rules(), graph(broken...)) {
				got = append(got, v.String())
			}
			if !slices.Contains(got, c.want) {
				t.Errorf("Check:\n got %q\nwant it to hold %q", got, c.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/b/c", false},
		{"a/b/...", "a/b", true},
		{"a/b/...", "a/b/c/d", true},
		{"a/b/...", "a/bc", false},
		{"a/b/...", "a", false},
	} {
		if got := match(c.pattern, c.path); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}
