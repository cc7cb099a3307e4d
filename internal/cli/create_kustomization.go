package cli

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

type createKustomizationOptions struct {
	source, path                         string
	prune, wait                          bool
	healthChecks, dependsOn              []string
	healthTimeout, retryInterval         time.Duration
	targetNamespace, serviceAccount      string
	decryptionProvider, decryptionSecret string
	kubeConfigSecretRef, validation      string
}

// sourceKinds are the kinds --source may name.
func sourceKinds() []string { return kinds.Kustomization().SourceKinds }

func newCreateKustomizationCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createKustomizationOptions{}
	var cmd *cobra.Command
	cmd = newCreateKindCommand(f, common, kinds.Kustomization(), &cobra.Command{
		Short: "Create or update a Kustomization resource",
		Example: `  # Apply ./deploy from the GitRepository podinfo, pruning what is removed from it
  flux create kustomization podinfo --source=GitRepository/podinfo --path=./deploy --prune=true --interval=5m

  # Use a source from another namespace and wait for the workloads
  flux create ks podinfo --source=GitRepository/podinfo.flux-system --path=./kustomize --wait --health-check-timeout=3m`,
	}, func(name, ns string) (kinds.Object, error) {
		if cmd.Flags().Changed("validation") {
			fmt.Fprintln(f.Err, "Flag --validation has been deprecated, this arg is no longer used, all resources are validated using server-side apply dry-run")
		}
		ks, err := o.build(name, ns, common)
		return ks, err
	})
	fl := cmd.Flags()
	fl.StringVar(&o.source, "source", "", "source that contains the Kubernetes manifests in the format '[<kind>/]<name>.<namespace>', "+
		"where kind must be one of: ("+strings.Join(sourceKinds(), ", ")+"), if kind is not specified it defaults to GitRepository")
	fl.StringVar(&o.path, "path", "./", "path to the directory containing a kustomization.yaml file")
	fl.BoolVar(&o.prune, "prune", false, "enable garbage collection")
	fl.BoolVar(&o.wait, "wait", false, "enable health checking of all the applied resources")
	fl.StringSliceVar(&o.healthChecks, "health-check", nil, "workload to be health checked in the format '<kind>/<name>.<namespace>'")
	fl.DurationVar(&o.healthTimeout, "health-check-timeout", 2*time.Minute, "timeout of health checking operations (spec.timeout)")
	fl.StringSliceVar(&o.dependsOn, "depends-on", nil, "Kustomization that must be ready before this Kustomization can be applied, "+
		"supported formats '<name>' and '<namespace>/<name>', also accepts comma-separated values")
	fl.StringVar(&o.targetNamespace, "target-namespace", "", "overrides the namespace of all Kustomization objects reconciled by this Kustomization")
	fl.StringVar(&o.serviceAccount, "service-account", "", "the name of the service account to impersonate when reconciling this Kustomization")
	fl.DurationVar(&o.retryInterval, "retry-interval", 0, "the interval at which to retry a previously failed reconciliation")
	fl.StringVar(&o.decryptionProvider, "decryption-provider", "", "decryption provider, available options are: (sops)")
	fl.StringVar(&o.decryptionSecret, "decryption-secret", "", "set the Kubernetes secret name that contains the OpenPGP private keys used for sops decryption")
	fl.StringVar(&o.kubeConfigSecretRef, "kubeconfig-secret-ref", "",
		"the name of the Kubernetes Secret that contains a key with the kubeconfig file for connecting to a remote cluster")
	// Deprecated as in Flux. Not with MarkDeprecated: cobra prints its
	// notice on the command's output, stdout here, which would corrupt
	// --export; Flux's CLI prints it on stderr.
	fl.StringVar(&o.validation, "validation", "", "validate the manifests before applying them on the cluster, can be 'client' or 'server'")
	_ = fl.MarkHidden("validation")
	return cmd
}

// build checks the flags and returns the Kustomization they describe.
func (o *createKustomizationOptions) build(name, ns string, common *createOptions) (*kustomizev1.Kustomization, error) {
	src, err := parseSourceRef(o.source)
	if err != nil {
		return nil, err
	}
	p, err := safeRelativePath(o.path)
	if err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	ks := &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: objMeta,
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:          src,
			Path:               p,
			Interval:           interval,
			Prune:              o.prune,
			Wait:               o.wait,
			TargetNamespace:    o.targetNamespace,
			ServiceAccountName: o.serviceAccount,
		},
	}
	for _, hc := range o.healthChecks {
		ref, err := parseHealthCheck(hc)
		if err != nil {
			return nil, err
		}
		ks.Spec.HealthChecks = append(ks.Spec.HealthChecks, ref)
	}
	if len(ks.Spec.HealthChecks) > 0 || o.wait {
		ks.Spec.Timeout = &metav1.Duration{Duration: o.healthTimeout}
	}
	for _, d := range o.dependsOn {
		dep, err := parseDependency(d)
		if err != nil {
			return nil, err
		}
		ks.Spec.DependsOn = append(ks.Spec.DependsOn, dep)
	}
	if o.kubeConfigSecretRef != "" {
		if errs := validation.IsDNS1123Subdomain(o.kubeConfigSecretRef); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --kubeconfig-secret-ref %q: %s", o.kubeConfigSecretRef, strings.Join(errs, "; "))
		}
		ks.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: o.kubeConfigSecretRef}}
	}
	if o.retryInterval > 0 {
		ks.Spec.RetryInterval = &metav1.Duration{Duration: o.retryInterval}
	}
	switch o.decryptionProvider {
	case "":
		if o.decryptionSecret != "" {
			return nil, fmt.Errorf("--decryption-secret needs --decryption-provider=sops")
		}
	case "sops":
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: "sops"}
		if o.decryptionSecret != "" {
			ks.Spec.Decryption.SecretRef = &meta.LocalObjectReference{Name: o.decryptionSecret}
		}
	default:
		return nil, fmt.Errorf("decryption provider %q is not supported: use --decryption-provider=sops", o.decryptionProvider)
	}
	return ks, nil
}

// parseSourceRef reads --source: [<kind>/]<name>[.<namespace>].
func parseSourceRef(s string) (kustomizev1.CrossNamespaceSourceReference, error) {
	var ref kustomizev1.CrossNamespaceSourceReference
	if s == "" {
		return ref, fmt.Errorf("source is required: add --source=GitRepository/NAME (or NAME.NAMESPACE for another namespace)")
	}
	kind, rest, hasKind := strings.Cut(s, "/")
	if !hasKind {
		kind, rest = sourcev1.GitRepositoryKind, s
	}
	for _, k := range sourceKinds() {
		if strings.EqualFold(k, kind) {
			ref.Kind = k
		}
	}
	if ref.Kind == "" {
		return ref, fmt.Errorf("source kind %q in --source %q is not supported, must be one of: %s", kind, s, strings.Join(sourceKinds(), ", "))
	}
	ref.Name, ref.Namespace, _ = strings.Cut(rest, ".")
	if ref.Name == "" || strings.Contains(ref.Namespace, "/") {
		return ref, fmt.Errorf("invalid --source %q: write it as [<kind>/]<name>[.<namespace>]", s)
	}
	return ref, nil
}

// parseHealthCheck reads --health-check: <kind>/<name>.<namespace>.
func parseHealthCheck(s string) (meta.NamespacedObjectKindReference, error) {
	var ref meta.NamespacedObjectKindReference
	kind, rest, ok := strings.Cut(s, "/")
	name, ns, okNS := strings.Cut(rest, ".")
	if !ok || !okNS || kind == "" || name == "" || ns == "" {
		return ref, fmt.Errorf("invalid --health-check %q: write it as <kind>/<name>.<namespace>, e.g. Deployment/podinfo.default", s)
	}
	ref.Kind, ref.Name, ref.Namespace = kind, name, ns
	ref.APIVersion = wellKnownAPIVersion(kind)
	return ref, nil
}

// wellKnownAPIVersion fills the apiVersion of health checks on common kinds.
func wellKnownAPIVersion(kind string) string {
	if k, ok := kinds.ByKind(kind); ok {
		return k.GroupVersion().String()
	}
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
		return "apps/v1"
	case "Job", "CronJob":
		return "batch/v1"
	case "Service", "Pod", "PersistentVolumeClaim", "ConfigMap":
		return "v1"
	case "HelmRelease":
		return "helm.toolkit.fluxcd.io/v2"
	}
	return ""
}

// parseDependency reads --depends-on: <name> or <namespace>/<name>.
func parseDependency(s string) (meta.DependencyReference, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok {
		ns, name = "", s
	}
	if name == "" || strings.Contains(name, "/") || (ok && ns == "") {
		return meta.DependencyReference{}, fmt.Errorf("invalid --depends-on %q: write it as <name> or <namespace>/<name>", s)
	}
	return meta.DependencyReference{Name: name, Namespace: ns}, nil
}

// safeRelativePath normalises --path to ./dir and refuses paths that leave
// the source's root.
func safeRelativePath(p string) (string, error) {
	clean := path.Clean("/" + strings.TrimPrefix(p, "./"))
	if strings.HasPrefix(p, "/") || strings.HasPrefix(path.Clean(p), "..") {
		return "", fmt.Errorf("invalid --path %q: it must be relative to the source root, e.g. ./deploy", p)
	}
	if clean == "/" {
		return "./", nil
	}
	return "." + clean, nil
}
