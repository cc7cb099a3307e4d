package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/apply"
)

// ExitError asks the main function for a given exit code; Err, when set, is
// the message to print.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit codes of `flux diff`, as diff(1): no difference, differences, trouble.
const (
	exitDiffFound = 1
	exitDiffError = 2
)

func newDiffCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Compare Flux resources built locally with the cluster",
	}
	cmd.AddCommand(newDiffKustomizationCommand(f), newDiffArtifactCommand(f))
	return cmd
}

func newDiffKustomizationCommand(f *Factory) *cobra.Command {
	var b buildFlags
	var ignorePaths []string
	var recursive bool
	var localSources map[string]string
	var ignoreNotFound, progress bool
	cmd := &cobra.Command{
		Use:     "kustomization NAME --path DIR",
		Aliases: []string{"ks"},
		Short:   "Diff a Kustomization built from a local directory against the cluster",
		Long: `Builds the local directory as "flux build kustomization" does, dry-runs a
server-side apply of every object and prints what would be created and a
unified diff of what drifted. Exits with 0 when there is no difference, 1
when there is one and 2 on error.

With --recursive, every Kustomization the build holds is diffed too, built
from the local directory of its source: the one of --local-sources, or,
for the source of the top Kustomization, --path without its spec.path.
Kustomizations whose source has no local directory are skipped.

With --ignore-not-found, a Kustomization that is not in the cluster is not an
error: without --kustomization-file there is nothing to diff and the command
exits with 0; with it, the diff runs from the file as always (that
Kustomization has no inventory, so nothing shows as deleted).`,
		Example: `  # Preview the changes local edits would make
  flux diff kustomization app --path ./deploy

  # Diff the Kustomizations it holds too, one of them from a second repository
  flux diff kustomization flux-system --path ./clusters/prod --recursive \
    --local-sources GitRepository/flux-system/apps=../apps`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if ignoreNotFound && b.file == "" {
				if missing, err := kustomizationMissing(ctx, f, args[0]); err != nil || missing {
					if err != nil {
						return &ExitError{Code: exitDiffError, Err: err}
					}
					return nil
				}
			}
			if recursive {
				return runRecursiveDiff(ctx, f, args[0], b, ignorePaths, localSources, progress)
			}
			if len(localSources) > 0 {
				return &ExitError{Code: exitDiffError, Err: errors.New("--local-sources is only used with --recursive: add --recursive")}
			}
			b, done, err := withIgnore(b, ignorePaths)
			if err != nil {
				return &ExitError{Code: exitDiffError, Err: err}
			}
			defer done()
			ks, objs, err := buildKustomization(ctx, f, args[0], b)
			if err != nil {
				return &ExitError{Code: exitDiffError, Err: err}
			}
			changed, err := diffObjects(ctx, f, objs, newProgressBar(f, progress, len(objs)))
			if err != nil {
				return &ExitError{Code: exitDiffError, Err: err}
			}
			deleted, err := diffDeleted(f, ks.Spec.Prune, ks.Status.Inventory, objs)
			if err != nil {
				return &ExitError{Code: exitDiffError, Err: err}
			}
			if changed || deleted {
				return &ExitError{Code: exitDiffFound,
					Err: errors.New("identified at least one change, exiting with non-zero exit code")}
			}
			return nil
		},
	}
	b.addFlags(cmd.Flags(), false)
	cmd.Flags().StringSliceVar(&ignorePaths, "ignore-paths", nil,
		"set paths to ignore in .gitignore format (can specify multiple paths with commas: path1,path2)")
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false,
		"diff the Kustomizations the build holds too, recursively")
	cmd.Flags().StringToStringVar(&localSources, "local-sources", nil,
		"local directories of sources, for --recursive: Kind/namespace/name=path (repeat, or separate with commas)")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false,
		"a Kustomization that is not in the cluster is not an error (see above)")
	cmd.Flags().BoolVar(&progress, "progress-bar", true,
		"draw a progress bar on stderr while the objects are dry-run (only when stderr is a terminal)")
	return cmd
}

// diffObjects dry-runs each object and reports the created and drifted
// ones; it tells whether there was any.
func diffObjects(ctx context.Context, f *Factory, objs []*unstructured.Unstructured, bar *progressBar) (bool, error) {
	defer bar.clear()
	cfg, err := f.RESTConfig()
	if err != nil {
		return false, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return false, err
	}
	mapper, err := f.Kube.ToRESTMapper()
	if err != nil {
		return false, err
	}
	changed := false
	for _, obj := range objs {
		bar.step()
		ref := apply.RefOf(obj).String()
		if skip := diffSkipReason(obj); skip != "" {
			bar.clear()
			fmt.Fprintf(f.Err, "► %s skipped: %s\n", ref, skip)
			continue
		}
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return changed, fmt.Errorf("%s: kind not served by the cluster: %w", ref, err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == apimeta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				return changed, fmt.Errorf("%s has no namespace: set metadata.namespace or the Kustomization's targetNamespace", ref)
			}
			ri = dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
		}
		live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			bar.clear()
			fmt.Fprintf(f.Out, "► %s created\n", ref)
			changed = true
			continue
		}
		if err != nil {
			return changed, fmt.Errorf("%s: reading the live object: %w", ref, err)
		}
		data, err := json.Marshal(obj.Object)
		if err != nil {
			return changed, err
		}
		force := true
		merged, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
			FieldManager: ksOwner.Field, Force: &force, DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return changed, fmt.Errorf("%s: server-side dry-run apply failed: %w", ref, err)
		}
		before, after := comparable(live), comparable(merged)
		if obj.GetKind() == "Secret" && gvk.Group == "" {
			maskSecretDiff(before, after)
		}
		a, err := yaml.Marshal(before)
		if err != nil {
			return changed, err
		}
		b, err := yaml.Marshal(after)
		if err != nil {
			return changed, err
		}
		if string(a) == string(b) {
			continue
		}
		changed = true
		bar.clear()
		fmt.Fprintf(f.Out, "► %s drifted\n", ref)
		unifiedDiff(f.Out, "live", "merged", string(a), string(b))
	}
	return changed, nil
}

// kustomizationMissing tells, for --ignore-not-found, whether the
// Kustomization name is absent from the cluster, saying so on stderr.
func kustomizationMissing(ctx context.Context, f *Factory, name string) (bool, error) {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return false, err
	}
	err = c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &kustomizev1.Kustomization{})
	if apierrors.IsNotFound(err) {
		fmt.Fprintf(f.Err, "► Kustomization %s/%s not found in the cluster: nothing to diff\n", ns, name)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading Kustomization %s/%s: %w", ns, name, err)
	}
	return false, nil
}

// diffDeleted reports the objects of the Kustomization's inventory that
// the build no longer has, which the controller would prune.
func diffDeleted(f *Factory, prune bool, inv *kustomizev1.ResourceInventory, objs []*unstructured.Unstructured) (bool, error) {
	if !prune || inv == nil {
		return false, nil
	}
	refs := make([]apply.ObjectRef, len(objs))
	for i, o := range objs {
		refs[i] = apply.RefOf(o)
	}
	old := apply.Inventory{}
	for _, e := range inv.Entries {
		old.Entries = append(old.Entries, apply.InventoryEntry{ID: e.ID, Version: e.Version})
	}
	stale, err := apply.Diff(old, apply.NewInventory(refs...))
	if err != nil {
		return false, fmt.Errorf("reading the Kustomization's inventory: %w", err)
	}
	for _, r := range stale {
		fmt.Fprintf(f.Out, "► %s deleted\n", r)
	}
	return len(stale) > 0, nil
}

// diffSkipReason says why an object is not compared, or "".
func diffSkipReason(obj *unstructured.Unstructured) string {
	ann := obj.GetAnnotations()
	group := ksOwner.Group
	switch {
	case ann[group+"/reconcile"] == "disabled":
		return "reconcile disabled"
	case ann[group+"/ssa"] == apply.SSAIgnore:
		return "ssa Ignore"
	}
	if obj.GetKind() == "Secret" {
		encoded := base64.StdEncoding.EncodeToString([]byte(sopsMask))
		for field, mask := range map[string]string{"data": encoded, "stringData": sopsMask} {
			values, _, _ := unstructured.NestedStringMap(obj.Object, field)
			for _, v := range values {
				if v == mask {
					return "SOPS-encrypted values cannot be compared locally"
				}
			}
		}
	}
	return ""
}

// comparable is obj without the fields the server changes on every write.
func comparable(obj *unstructured.Unstructured) map[string]any {
	o := obj.DeepCopy().Object
	delete(o, "status")
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"} {
		unstructured.RemoveNestedField(o, "metadata", f)
	}
	return o
}

// maskSecretDiff hides Secret values, showing only whether each changed.
func maskSecretDiff(before, after map[string]any) {
	b, _, _ := unstructured.NestedMap(before, "data")
	a, _, _ := unstructured.NestedMap(after, "data")
	for k, v := range b {
		if w, ok := a[k]; ok && w == v {
			b[k], a[k] = "***", "***"
		} else {
			b[k] = "*** (before)"
		}
	}
	for k, v := range a {
		if v != "***" {
			a[k] = "*** (after)"
		}
	}
	if b != nil {
		_ = unstructured.SetNestedMap(before, b, "data")
	}
	if a != nil {
		_ = unstructured.SetNestedMap(after, a, "data")
	}
}
