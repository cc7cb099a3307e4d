package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
)

// The labels kustomize-controller writes on the objects it applies.
const (
	ksNameLabel      = "kustomize.toolkit.fluxcd.io/name"
	ksNamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"
)

func newTraceCommand(f *Factory) *cobra.Command {
	var kind, apiVersion string
	cmd := &cobra.Command{
		Use:   "trace (KIND/NAME | NAME --kind --api-version)...",
		Short: "Show which Kustomization or HelmRelease and source manage an object in the cluster",
		Long: "Trace reads the kustomize.toolkit.fluxcd.io/name and /namespace labels of an object and prints\n" +
			"the Kustomization that applied it (path, revision, status) and that Kustomization's source; for an\n" +
			"object a Helm release made (helm.toolkit.fluxcd.io/name and /namespace labels), the HelmRelease,\n" +
			"the HelmChart its chart comes through and the chart's source. A source that is an ExternalArtifact\n" +
			"an ArtifactGenerator wrote leads on to that generator and each of its sources.",
		Example: "  flux trace deployment/podinfo -n apps\n" +
			"  flux trace podinfo --kind=Deployment --api-version=apps/v1 -n apps\n" +
			"  flux trace app-config --kind=ConfigMap --api-version=v1 -n apps",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("give the object to trace: KIND/NAME, or NAME with --kind and --api-version")
			}
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			gvks := make([]schema.GroupVersionKind, len(args))
			for i, arg := range args {
				if gvks[i], args[i], err = traceTarget(c, arg, kind, apiVersion); err != nil {
					return err
				}
			}
			for i, name := range args {
				if i > 0 {
					fmt.Fprintln(f.Out)
				}
				text, err := trace(cmd.Context(), c, gvks[i], client.ObjectKey{Namespace: ns, Name: name})
				if err != nil {
					return err
				}
				if _, err := f.Out.Write(text); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "the kind of the object (Deployment, ConfigMap...)")
	cmd.Flags().StringVar(&apiVersion, "api-version", "", "the API version of the object (apps/v1, v1...)")
	return cmd
}

// traceTarget resolves one argument: KIND/NAME (a kind or resource name as
// kubectl takes it, "deployment/podinfo", "deployments.apps/podinfo", with
// --api-version optional) or NAME with --kind and --api-version.
func traceTarget(c client.Client, arg, kind, apiVersion string) (schema.GroupVersionKind, string, error) {
	resource, name, typed := strings.Cut(arg, "/")
	if !typed {
		if kind == "" || apiVersion == "" {
			return schema.GroupVersionKind{}, "", fmt.Errorf("--kind and --api-version are required with a bare NAME, "+
				"for example --kind=Deployment --api-version=apps/v1, or write KIND/NAME: deployment/%s", arg)
		}
		resource, name = kind, arg
	}
	if resource == "" || name == "" || strings.Contains(name, "/") {
		return schema.GroupVersionKind{}, "", fmt.Errorf("invalid object %q: write it as KIND/NAME, e.g. deployment/podinfo", arg)
	}
	var gv schema.GroupVersion
	if apiVersion != "" {
		var err error
		if gv, err = schema.ParseGroupVersion(apiVersion); err != nil {
			return schema.GroupVersionKind{}, "", fmt.Errorf("invalid --api-version %q: %w", apiVersion, err)
		}
		if !typed {
			return gv.WithKind(kind), name, nil
		}
	}
	gr := schema.ParseGroupResource(strings.ToLower(resource))
	if gv.Group != "" || gv.Version != "" {
		gr.Group = gv.Group
	}
	gvk, err := c.RESTMapper().KindFor(gr.WithVersion(gv.Version))
	if err != nil {
		return schema.GroupVersionKind{}, "", fmt.Errorf("unknown kind %q in %q: %w (name it as kubectl does, e.g. deployment/podinfo, or use --api-version)", resource, arg, err)
	}
	return gvk, name, nil
}

// trace renders the chain object → Kustomization → source.
func trace(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey) ([]byte, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %q not found in namespace %q", gvk.Kind, key.Name, key.Namespace)
		}
		return nil, fmt.Errorf("getting %s %s: %w (check --kind and --api-version)", gvk.Kind, key, err)
	}
	sections := [][]pair{{
		{"Object", gvk.Kind + "/" + obj.GetName()},
		{"Namespace", obj.GetNamespace()},
		{"Status", "Managed by Flux"},
	}}
	// The web UI's "who manages this?" reads the labels the same way.
	owner, ownerKey, managed := kinds.ManagedBy(obj.GetLabels())
	if !managed {
		return nil, fmt.Errorf("%s %s/%s is not managed by Flux: it has neither the %s and %s labels nor Helm's %s and %s",
			gvk.Kind, obj.GetNamespace(), obj.GetName(), ksNameLabel, ksNamespaceLabel, helmv2.NameLabel, helmv2.NamespaceLabel)
	}
	if owner.Kind == kinds.HelmRelease().Kind {
		return traceHelmRelease(ctx, c, gvk, key, client.ObjectKey(ownerKey), sections)
	}
	ksName, ksNS := ownerKey.Name, ownerKey.Namespace
	kk := kinds.Kustomization()
	ks := kk.New()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ksNS, Name: ksName}, ks); err != nil {
		return nil, fmt.Errorf("%s %s is managed by Kustomization %s/%s, which cannot be read: %w",
			gvk.Kind, key, ksNS, ksName, err)
	}
	sections = append(sections, traceLines(kk, ks))
	src, err := traceSourceChain(ctx, c, kk, ks)
	if err != nil {
		return nil, err
	}
	return alignedSections(append(sections, src...)), nil
}

// alignedSections writes "Key: value" sections separated by ---, with the
// values of every section in one column.
func alignedSections(sections [][]pair) []byte {
	width := 0
	for _, s := range sections {
		for _, p := range s {
			width = max(width, len(p.key))
		}
	}
	var buf bytes.Buffer
	for i, s := range sections {
		if i > 0 {
			buf.WriteString("---\n")
		}
		for _, p := range s {
			v := p.value
			if v == "" {
				v = none
			}
			fmt.Fprintf(&buf, "%-*s  %s\n", width+1, p.key+":", v)
		}
	}
	return buf.Bytes()
}

// traceLines are the lines of a Flux object the catalogue knows: kind and
// name, namespace, its summary, revision (for a kind that has revisions:
// an ArtifactGenerator has none) and status.
func traceLines(k kinds.Kind, obj kinds.Object) []pair {
	pairs := []pair{{k.Kind, obj.GetName()}, {"Namespace", obj.GetNamespace()}}
	for _, p := range k.Summary(obj) {
		pairs = append(pairs, pair{p.Key, p.Value})
	}
	if k.Revision != nil {
		pairs = append(pairs, pair{"Revision", k.RevisionOf(obj)})
	}
	status, message := traceStatus(kinds.Conditions(obj))
	return append(pairs, pair{"Status", status}, pair{"Message", message})
}

// traceSource adds the source of obj (of kind k). A source kind the
// catalogue knows is read as its type; others generically, from their
// common status fields.
func traceSource(ctx context.Context, c client.Client, k kinds.Kind, obj kinds.Object) ([]pair, error) {
	ref := k.Source(obj)
	src := &unstructured.Unstructured{}
	src.SetAPIVersion(ref.APIVersion)
	src.SetKind(ref.Kind)
	if err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, src); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("getting %s %s/%s, the source of %s %s/%s: %w",
				ref.Kind, ref.Namespace, ref.Name, k.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
		return []pair{{ref.Kind, ref.Name}, {"Namespace", ref.Namespace}, {"Status", "Not found"}}, nil
	}
	if sk, ok := kinds.ByGroupKind(ref.GroupKind()); ok {
		typed := sk.New()
		if err := apiruntime.DefaultUnstructuredConverter.FromUnstructured(src.Object, typed); err == nil {
			return traceLines(sk, typed), nil
		}
	}
	var conds []metav1.Condition
	if raw, ok, _ := unstructured.NestedSlice(src.Object, "status", "conditions"); ok {
		for _, r := range raw {
			m, _ := r.(map[string]any)
			cond := metav1.Condition{}
			cond.Type, _ = m["type"].(string)
			s, _ := m["status"].(string)
			cond.Status = metav1.ConditionStatus(s)
			cond.Reason, _ = m["reason"].(string)
			cond.Message, _ = m["message"].(string)
			if t, _ := m["lastTransitionTime"].(string); t != "" {
				if pt, err := time.Parse(time.RFC3339, t); err == nil {
					cond.LastTransitionTime = metav1.NewTime(pt)
				}
			}
			conds = append(conds, cond)
		}
	}
	url, _, _ := unstructured.NestedString(src.Object, "spec", "url")
	revision, _, _ := unstructured.NestedString(src.Object, "status", "artifact", "revision")
	status, message := traceStatus(conds)
	return []pair{{ref.Kind, ref.Name}, {"Namespace", ref.Namespace}, {"URL", url},
		{"Revision", revision}, {"Status", status}, {"Message", message}}, nil
}

// traceStatus is the Status and Message lines of a Flux object: when it was
// last reconciled with success, or why it is not Ready.
func traceStatus(conds []metav1.Condition) (status, message string) {
	for _, c := range conds {
		if c.Type != meta.ReadyCondition {
			continue
		}
		when := c.LastTransitionTime.UTC().Format(time.RFC3339)
		switch c.Status {
		case metav1.ConditionTrue:
			return "Last reconciled at " + when, c.Message
		case metav1.ConditionFalse:
			return fmt.Sprintf("Not ready since %s (%s)", when, c.Reason), c.Message
		}
		return fmt.Sprintf("Reconciling (%s)", c.Reason), c.Message
	}
	return "Waiting to be reconciled", ""
}
