package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/install"
)

type uninstallOptions struct {
	keepNamespace, dryRun, silent bool
}

func newUninstallCommand(f *Factory, version string) *cobra.Command {
	var o uninstallOptions
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove the Driftless controller, its CRDs and every custom resource",
		Long: `Uninstall deletes the controller objects of the install in the system namespace,
removes the toolkit finalizers from every Flux custom resource in every namespace
(so that deleting them never waits for a controller that is gone), deletes the
toolkit CRDs (and with them the custom resources) and, unless --keep-namespace is
set, the namespace. The objects the Kustomizations applied stay in the cluster.`,
		Example: `  flux uninstall
  flux uninstall --dry-run
  flux uninstall --keep-namespace --silent`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !o.silent && !o.dryRun {
				yes, err := confirm(f.In, f.Err, "Are you sure you want to delete Flux and its custom resource definitions")
				if err != nil {
					return err
				}
				if !yes {
					return errors.New("uninstall cancelled")
				}
			}
			return uninstall(contextOf(cmd), f, version, o)
		},
	}
	cmd.Flags().BoolVar(&o.keepNamespace, "keep-namespace", false, "keep the system namespace after uninstalling")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "only print the objects that would be deleted")
	cmd.Flags().BoolVarP(&o.silent, "silent", "s", false, "delete without asking for confirmation")
	return cmd
}

// uninstall does the work in Flux's order: the controllers first, so that
// none puts a finalizer back, then the finalizers, the CRDs, the namespace.
func uninstall(ctx context.Context, f *Factory, version string, o uninstallOptions) error {
	ns := f.SystemNamespace()
	c, err := f.Client()
	if err != nil {
		return err
	}
	opts := install.DefaultOptions(version)
	opts.Namespace = ns
	objs, err := install.Render(opts)
	if err != nil {
		return err
	}
	u := uninstaller{c: c, w: f.Err, dryRun: o.dryRun}
	fmt.Fprintf(f.Err, "► deleting components in %s namespace\n", ns)
	for _, gvk := range componentKinds(objs) {
		if err := u.deleteLabelled(ctx, gvk, ns); err != nil {
			return err
		}
	}
	crds := installedCRDs(objs)
	fmt.Fprintln(f.Err, "► deleting toolkit.fluxcd.io finalizers in all namespaces")
	for _, gvk := range crds {
		if err := u.removeFinalizers(ctx, gvk); err != nil {
			return err
		}
	}
	fmt.Fprintln(f.Err, "► deleting toolkit.fluxcd.io custom resource definitions")
	for _, obj := range objs {
		if obj.GetKind() == "CustomResourceDefinition" {
			if err := u.delete(ctx, obj); err != nil {
				return err
			}
		}
	}
	if !o.keepNamespace {
		nsObj := &unstructured.Unstructured{}
		nsObj.SetAPIVersion("v1")
		nsObj.SetKind("Namespace")
		nsObj.SetName(ns)
		if err := u.delete(ctx, nsObj); err != nil {
			return err
		}
	}
	fmt.Fprintln(f.Err, "✔ uninstall finished")
	return nil
}

// componentKinds are the kinds of the controller objects, without the CRDs
// and the namespace, in the reverse of the install order.
func componentKinds(objs []*unstructured.Unstructured) []schema.GroupVersionKind {
	var kinds []schema.GroupVersionKind
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		if gvk.Kind == "CustomResourceDefinition" || gvk.Kind == "Namespace" || slices.Contains(kinds, gvk) {
			continue
		}
		kinds = append(kinds, gvk)
	}
	slices.Reverse(kinds)
	return kinds
}

// installedCRDs are the kinds the install's CRDs define, at their storage
// version.
func installedCRDs(objs []*unstructured.Unstructured) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, obj := range objs {
		if obj.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(obj.Object, "spec", "versions")
		for _, v := range versions {
			m, _ := v.(map[string]any)
			if stored, _ := m["storage"].(bool); stored {
				name, _ := m["name"].(string)
				out = append(out, schema.GroupVersionKind{Group: group, Version: name, Kind: kind})
			}
		}
	}
	return out
}

// uninstaller deletes and prints, or only prints with dryRun (the API
// server checks the deletes all the same).
type uninstaller struct {
	c      client.Client
	w      io.Writer
	dryRun bool
}

func (u uninstaller) suffix() string {
	if u.dryRun {
		return " (dry run)"
	}
	return ""
}

func (u uninstaller) deleteOptions() []client.DeleteOption {
	if u.dryRun {
		return []client.DeleteOption{client.DryRunAll}
	}
	return nil
}

// deleteLabelled deletes the objects of kind gvk labelled as the install's
// in ns (cluster-scoped kinds: in the cluster).
func (u uninstaller) deleteLabelled(ctx context.Context, gvk schema.GroupVersionKind, ns string) error {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	opts := []client.ListOption{client.MatchingLabels{install.InstanceLabel: ns, install.PartOfLabel: install.PartOf}}
	namespaced, err := u.c.IsObjectNamespaced(&unstructured.Unstructured{Object: map[string]any{"apiVersion": gvk.GroupVersion().String(), "kind": gvk.Kind}})
	if err != nil {
		return fmt.Errorf("%s: %w", gvk.Kind, err)
	}
	if namespaced {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := u.c.List(ctx, list, opts...); err != nil {
		return fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	for i := range list.Items {
		if err := u.delete(ctx, &list.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

func (u uninstaller) delete(ctx context.Context, obj *unstructured.Unstructured) error {
	err := u.c.Delete(ctx, obj, u.deleteOptions()...)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("deleting %s: %w", apply.RefOf(obj), err)
	}
	fmt.Fprintf(u.w, "✔ %s deleted%s\n", apply.RefOf(obj), u.suffix())
	return nil
}

// removeFinalizers drops the fluxcd.io finalizers of every object of kind
// gvk in every namespace; a kind the server does not know is skipped.
func (u uninstaller) removeFinalizers(ctx context.Context, gvk schema.GroupVersionKind) error {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := u.c.List(ctx, list); err != nil {
		if apimeta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	for i := range list.Items {
		obj := &list.Items[i]
		kept := slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(s string) bool { return strings.Contains(s, "fluxcd.io") })
		if len(kept) == len(obj.GetFinalizers()) {
			continue
		}
		patch := client.RawPatch(types.MergePatchType, finalizersPatch(kept))
		var opts []client.PatchOption
		if u.dryRun {
			opts = append(opts, client.DryRunAll)
		}
		if err := u.c.Patch(ctx, obj, patch, opts...); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing the finalizers of %s: %w", apply.RefOf(obj), err)
		}
		fmt.Fprintf(u.w, "✔ %s finalizers deleted%s\n", apply.RefOf(obj), u.suffix())
	}
	return nil
}

// finalizersPatch is a merge patch setting metadata.finalizers to kept.
func finalizersPatch(kept []string) []byte {
	var value any // null removes the field
	if len(kept) > 0 {
		value = kept
	}
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": value}})
	return b
}
