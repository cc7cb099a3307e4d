// Package install renders the manifests that put Driftless on a cluster:
// the CRDs, the namespace, RBAC, the controller Deployments, their Services
// and NetworkPolicies, set for one install's options. `flux install` applies
// them, `flux install --export` and `flux bootstrap` write them out.
//
// Two layouts: single (the default), one driftless-controller Deployment
// running every controller; and split (Options.Split, implied by
// Options.MultiTenant), one Deployment per controller as Flux installs them,
// each with its own ServiceAccount, so that only the applier holds
// cluster-admin and the Git client and the artifact server do not.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/config"
	"github.com/driftless/driftless/internal/controller/names"
)

// Labels every installed object carries; uninstall and check find them by
// these, as Flux's do.
const (
	InstanceLabel = "app.kubernetes.io/instance"
	PartOfLabel   = "app.kubernetes.io/part-of"
	VersionLabel  = "app.kubernetes.io/version"
	PartOf        = "flux"
)

// DeploymentName is the one controller Deployment (and its ServiceAccount)
// of the single layout.
const DeploymentName = "driftless-controller"

// The namespace the manifests are written for; Render replaces it.
const baseNamespace = "flux-system"

// Components are Flux's controller names, in Flux's order, and the
// driftless-controller --controllers value each maps to.
var Components = controllerNames(names.All)

// Implemented are the controllers driftless-controller runs today.
var Implemented = names.Implemented

// controllerNames are Flux's controller names of groups.
func controllerNames(groups []string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, names.Deployment(g))
	}
	return out
}

// Options are `flux install`'s and `flux bootstrap`'s component flags.
type Options struct {
	Namespace          string
	Version            string // image tag and version label
	Registry           string // image registry, without the image name
	ImagePullSecret    string
	Components         []string
	ComponentsExtra    []string
	NetworkPolicy      bool
	WatchAllNamespaces bool
	LogLevel           string
	ClusterDomain      string
	TolerationKeys     []string
	// Split installs one Deployment per controller, each with its own
	// ServiceAccount; only the applier's is bound to cluster-admin.
	Split bool
	// MultiTenant is Flux's multi-tenancy lockdown: the split layout, with
	// the applier refusing cross-namespace references and remote bases and
	// impersonating the namespace's default ServiceAccount when a
	// Kustomization names none.
	MultiTenant bool
	// Web installs the web UI (the default): --web-addr=:9080 on the
	// Deployment that serves it, the driftless-web Service, its
	// NetworkPolicy and the right to create TokenReviews and
	// SubjectAccessReviews.
	Web bool
	// WebTLSSecret names a Secret in the install namespace holding tls.crt
	// and tls.key (type kubernetes.io/tls, as cert-manager writes it). The
	// Deployment that serves the UI mounts it and serves TLS with it, so
	// that tokens and sessions never cross the network in the clear; a
	// renewed pair is picked up without a restart. Empty serves plain HTTP.
	WebTLSSecret string
	// WebAuthProxyCASecret names a Secret in the install namespace holding
	// ca.crt, the CA that signs an authenticating proxy's client
	// certificate: the UI then trusts the user and groups that proxy sends
	// (single sign-on in front of the UI) and acts for them by
	// impersonation, so the UI's ServiceAccount is granted impersonate on
	// users and groups, and only then. It needs WebTLSSecret (client
	// certificates need TLS) and may name the same Secret (cert-manager's
	// holds ca.crt too).
	WebAuthProxyCASecret string
}

// DefaultOptions are Flux's defaults for a given version.
func DefaultOptions(version string) Options {
	return Options{
		Namespace:          baseNamespace,
		Version:            version,
		Registry:           "ghcr.io/driftless",
		Components:         slices.Clone(Components[:4]),
		NetworkPolicy:      true,
		WatchAllNamespaces: true,
		LogLevel:           "info",
		ClusterDomain:      "cluster.local",
		Web:                true,
	}
}

// Image is the controller image these options install.
func (o Options) Image() string {
	return strings.TrimSuffix(o.Registry, "/") + "/" + DeploymentName + ":" + o.Version
}

// Controllers returns the --controllers the options select, and the
// selected components that Driftless does not implement yet (they are
// accepted, so Flux's defaults work, and reported).
func (o Options) Controllers() (run, missing []string, err error) {
	return o.controllers(Implemented)
}

func (o Options) controllers(implemented []string) (run, missing []string, err error) {
	for _, c := range append(slices.Clone(o.Components), o.ComponentsExtra...) {
		if !slices.Contains(Components, c) {
			return nil, nil, fmt.Errorf("unknown component %q; known: %s", c, strings.Join(Components, ", "))
		}
		name := strings.TrimSuffix(c, "-controller")
		if slices.Contains(implemented, name) {
			if !slices.Contains(run, name) {
				run = append(run, name)
			}
		} else if !slices.Contains(missing, c) {
			missing = append(missing, c)
		}
	}
	if len(run) == 0 {
		return nil, missing, errors.New("no implemented controller selected; --components must name at least one, such as source-controller or kustomize-controller")
	}
	return run, missing, nil
}

func (o Options) validate() error {
	if o.Namespace == "" {
		return errors.New("the namespace must not be empty")
	}
	if o.Version == "" || o.Registry == "" {
		return errors.New("the version and the registry must not be empty")
	}
	switch o.LogLevel {
	case "debug", "info", "error":
	default:
		return fmt.Errorf("invalid log level %q; use debug, info or error", o.LogLevel)
	}
	return o.validateWebSecrets()
}

// Render returns every object to install, namespace and CRDs first.
func Render(o Options) ([]*unstructured.Unstructured, error) {
	return render(o, Implemented)
}

// render is Render with the list of the groups driftless-controller runs.
func render(o Options, implemented []string) ([]*unstructured.Unstructured, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	controllers, _, err := o.controllers(implemented)
	if err != nil {
		return nil, err
	}
	files := []string{"manager/namespace.yaml"}
	crds, err := fs.Glob(config.Manifests, "crd/bases/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(crds)
	files = append(files, crds...)
	files = append(files, "manager/rbac.yaml")
	if o.IsSplit() {
		for _, c := range controllers {
			files = append(files, "manager/"+c+"_controller.yaml")
		}
	} else {
		files = append(files, "manager/controller.yaml")
	}
	if o.NetworkPolicy {
		files = append(files, "manager/network_policy.yaml")
	}
	files = append(files, notificationFiles(o, controllers)...)
	files = append(files, webFiles(o, controllers)...)
	var objs []*unstructured.Unstructured
	for _, name := range files {
		data, err := config.Manifests.ReadFile(name)
		if err != nil {
			return nil, err
		}
		docs, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(name), err)
		}
		objs = append(objs, docs...)
	}
	for _, obj := range objs {
		if err := selectNotificationPods(obj, o); err != nil {
			return nil, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if err := selectWebPods(obj, o); err != nil {
			return nil, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if err := customise(obj, o, controllers, implemented); err != nil {
			return nil, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return objs, nil
}

// YAML writes objects as one multi-document stream with a header saying
// which command made it (madeBy, e.g. "flux bootstrap git").
func YAML(objs []*unstructured.Unstructured, o Options, madeBy string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Driftless %s components (Flux-compatible), namespace %s.\n", o.Version, o.Namespace)
	fmt.Fprintf(&b, "# Made by %s; apply with kubectl apply --server-side.\n", madeBy)
	for _, obj := range objs {
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.Bytes(), nil
}

func decode(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}
