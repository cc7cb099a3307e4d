package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// fluxCRDSelector selects the CRDs Flux (and Driftless) install.
const fluxCRDSelector = "app.kubernetes.io/part-of=flux"

// crdMigration is one CRD whose stored versions include older ones.
type crdMigration struct {
	crd     *apiextensionsv1.CustomResourceDefinition
	storage string
	objects []unstructured.Unstructured
}

func (m *crdMigration) resource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: m.crd.Spec.Group, Version: m.storage, Resource: m.crd.Spec.Names.Plural}
}

// migrateCluster is cluster mode: it re-stores the objects of every Flux
// CRD that still lists older stored versions, then drops those versions
// from status.storedVersions.
func migrateCluster(ctx context.Context, f *Factory, o *migrateOptions) error {
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	crds, err := apiextensions.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	p := progress{f.Err}
	p.action("starting migration of custom resources")
	plan, err := planClusterMigration(ctx, crds, dyn)
	if err != nil {
		return err
	}
	if len(plan) == 0 {
		p.success("no custom resources found that require migration")
		return nil
	}
	for _, m := range plan {
		fmt.Fprintf(f.Out, "%s: stored versions %v -> [%s], %d object(s) to rewrite\n",
			m.crd.Name, m.crd.Status.StoredVersions, m.storage, len(m.objects))
	}
	if o.dryRun {
		p.success("dry-run: nothing was changed")
		return nil
	}
	if err := confirmMigration(f, o.yes, "Migrate the custom resources listed above"); err != nil {
		return err
	}
	for _, m := range plan {
		if err := restoreObjects(ctx, f, dyn, m); err != nil {
			return err
		}
		if err := setStoredVersion(ctx, crds, m.crd.Name, m.storage); err != nil {
			return err
		}
		p.success("%s migrated to storage version %s", m.crd.Name, m.storage)
	}
	p.success("custom resources migrated successfully")
	return nil
}

// planClusterMigration finds the Flux CRDs whose storedVersions list more
// than their storage version, and reads their objects.
func planClusterMigration(ctx context.Context, crds apiextensions.Interface, dyn dynamic.Interface) ([]*crdMigration, error) {
	list, err := crds.ApiextensionsV1().CustomResourceDefinitions().List(ctx, metav1.ListOptions{LabelSelector: fluxCRDSelector})
	if err != nil {
		return nil, fmt.Errorf("listing the Flux CustomResourceDefinitions (%s): %w", fluxCRDSelector, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no Flux CustomResourceDefinitions (labelled %s) in the cluster: is Flux installed?", fluxCRDSelector)
	}
	var plan []*crdMigration
	for i := range list.Items {
		crd := &list.Items[i]
		storage := storageVersion(crd)
		if storage == "?" {
			return nil, fmt.Errorf("CustomResourceDefinition %s has no storage version", crd.Name)
		}
		if slices.Equal(crd.Status.StoredVersions, []string{storage}) {
			continue
		}
		m := &crdMigration{crd: crd, storage: storage}
		if m.objects, err = listAll(ctx, dyn.Resource(m.resource())); err != nil {
			return nil, fmt.Errorf("listing the objects of %s: %w", crd.Name, err)
		}
		plan = append(plan, m)
	}
	return plan, nil
}

// listAll lists every object of a resource in every namespace, page by page.
func listAll(ctx context.Context, ri dynamic.NamespaceableResourceInterface) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	opts := metav1.ListOptions{Limit: 500}
	for {
		page, err := ri.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if opts.Continue = page.GetContinue(); opts.Continue == "" {
			return out, nil
		}
	}
}

// restoreObjects writes every object of m back unchanged, which makes the
// API server store it at the storage version. managedFields entries of an
// older version of the group are moved to the storage version in the same
// write, so that server-side apply keeps working once the older version
// is no longer served (the schemas are the same, only the name changes).
func restoreObjects(ctx context.Context, f *Factory, dyn dynamic.Interface, m *crdMigration) error {
	apiVersion := m.crd.Spec.Group + "/" + m.storage
	for _, obj := range m.objects {
		ri := dyn.Resource(m.resource()).Namespace(obj.GetNamespace())
		err := restoreObject(ctx, ri, &obj, apiVersion)
		if apierrors.IsNotFound(err) {
			continue // deleted meanwhile: nothing left to migrate
		}
		if err != nil {
			return fmt.Errorf("%s %s/%s: rewriting it at %s failed: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), apiVersion, err)
		}
		fmt.Fprintf(f.Err, "✔ %s/%s/%s migrated to version %s\n", obj.GetKind(), obj.GetNamespace(), obj.GetName(), m.storage)
	}
	return nil
}

// restoreObject patches obj; when the patch no longer fits (its
// managedFields changed since the list), it reads the object again and
// retries, a few times.
func restoreObject(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, apiVersion string) error {
	var patchErr error
	for range 3 {
		patchType, patch, err := migrationPatch(obj, apiVersion)
		if err != nil {
			return err
		}
		_, patchErr = ri.Patch(ctx, obj.GetName(), patchType, patch, metav1.PatchOptions{})
		if patchErr == nil || apierrors.IsNotFound(patchErr) {
			return patchErr
		}
		if obj, err = ri.Get(ctx, obj.GetName(), metav1.GetOptions{}); err != nil {
			return err
		}
	}
	return patchErr
}

// migrationPatch is an empty merge patch, or, when managedFields name older
// versions of the group, a JSON patch that renames them.
func migrationPatch(obj *unstructured.Unstructured, apiVersion string) (types.PatchType, []byte, error) {
	group := schema.FromAPIVersionAndKind(apiVersion, "").Group
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value string `json:"value"`
	}
	var ops []op
	for i, mf := range obj.GetManagedFields() {
		gv, err := schema.ParseGroupVersion(mf.APIVersion)
		if err != nil || gv.Group != group || mf.APIVersion == apiVersion {
			continue
		}
		ops = append(ops, op{Op: "replace", Path: fmt.Sprintf("/metadata/managedFields/%d/apiVersion", i), Value: apiVersion})
	}
	if len(ops) == 0 {
		return types.MergePatchType, []byte("{}"), nil
	}
	data, err := json.Marshal(ops)
	return types.JSONPatchType, data, err
}

// setStoredVersion sets the CRD's status.storedVersions to storage alone.
func setStoredVersion(ctx context.Context, crds apiextensions.Interface, name, storage string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		crd, err := crds.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if storageVersion(crd) != storage {
			return errors.New("its storage version changed during the migration: run flux migrate again")
		}
		crd.Status.StoredVersions = []string{storage}
		_, err = crds.ApiextensionsV1().CustomResourceDefinitions().UpdateStatus(ctx, crd, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("setting the stored versions of %s to [%s]: %w", name, storage, err)
	}
	return nil
}
