package cli

import (
	"fmt"
	"maps"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// tenantLabel marks the objects `flux create tenant` makes.
const tenantLabel = "toolkit.fluxcd.io/tenant"

type createTenantOptions struct {
	namespaces     []string
	clusterRole    string
	serviceAccount string
	skipNamespace  bool
}

func newCreateTenantCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createTenantOptions{}
	cmd := &cobra.Command{
		Use:   "tenant NAME",
		Short: "Create or update a tenant",
		Long: `The create tenant command generates namespaces, service accounts and role bindings
to limit the reconcilers' scope to the tenant namespaces.`,
		Example: `  # Create a tenant with access to one namespace
  flux create tenant dev-team --with-namespace=frontend --label=environment=dev

  # Print the tenant's objects for several namespaces with a restricted role
  flux create tenant dev-team --with-namespace=frontend --with-namespace=backend \
    --cluster-role=dev-team-reconciler --export`,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "create tenant")
			if err != nil {
				return err
			}
			labels, err := parseLabels(common.labels)
			if err != nil {
				return err
			}
			objs, err := o.objects(name, labels)
			if err != nil {
				return err
			}
			if common.export {
				for _, obj := range objs {
					data, err := yaml.Marshal(obj.Object)
					if err != nil {
						return err
					}
					fmt.Fprintf(f.Out, "---\n%s", data)
				}
				return nil
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			p := progress{f.Err}
			for _, obj := range objs {
				what := strings.ToLower(obj.GetKind())
				id := obj.GetName()
				if obj.GetNamespace() != "" {
					id = obj.GetNamespace() + "/" + id
				}
				p.action("applying %s %s", what, id)
				verb := "created"
				probe := &unstructured.Unstructured{}
				probe.SetGroupVersionKind(obj.GroupVersionKind())
				if err := c.Get(cmd.Context(), client.ObjectKeyFromObject(obj), probe); err == nil {
					verb = "updated"
				} else if !apierrors.IsNotFound(err) {
					return fmt.Errorf("read %s %s: %w", obj.GetKind(), id, err)
				}
				if err := c.Patch(cmd.Context(), obj, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
					return fmt.Errorf("apply %s %s: %w", obj.GetKind(), id, err)
				}
				p.success("%s %s %s", what, id, verb)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.namespaces, "with-namespace", nil, "namespace belonging to this tenant (repeatable)")
	fl.StringVar(&o.clusterRole, "cluster-role", "cluster-admin", "cluster role of the tenant role binding")
	fl.StringVar(&o.serviceAccount, "with-service-account", "", "service account belonging to this tenant (default: the tenant name)")
	fl.BoolVar(&o.skipNamespace, "skip-namespace", false, "skip creating the namespaces (they must exist)")
	return cmd
}

// objects are, for each namespace, the Namespace (unless --skip-namespace),
// the tenant's ServiceAccount and the RoleBinding NAME-reconciler granting
// the cluster role to it and to the user gotk:NS:reconciler.
func (o *createTenantOptions) objects(name string, extra map[string]string) ([]*unstructured.Unstructured, error) {
	if len(o.namespaces) == 0 {
		return nil, fmt.Errorf("at least one namespace is required: add --with-namespace=NAMESPACE")
	}
	if o.clusterRole == "" {
		return nil, fmt.Errorf("--cluster-role must not be empty")
	}
	sa := o.serviceAccount
	if sa == "" {
		sa = name
	}
	if errs := validation.IsDNS1123Subdomain(sa); len(errs) > 0 {
		return nil, fmt.Errorf("invalid --with-service-account %q: %s", sa, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(name); len(errs) > 0 {
		return nil, fmt.Errorf("invalid tenant name %q (it is a label value): %s", name, strings.Join(errs, "; "))
	}
	labels := map[string]any{tenantLabel: name}
	for k, v := range extra {
		labels[k] = v
	}
	var objs []*unstructured.Unstructured
	obj := func(apiVersion, kind, name, ns string, rest map[string]any) {
		md := map[string]any{"name": name, "labels": maps.Clone(labels)}
		if ns != "" {
			md["namespace"] = ns
		}
		m := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}
		maps.Copy(m, rest)
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	seen := map[string]bool{}
	for _, ns := range o.namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --with-namespace %q: %s", ns, strings.Join(errs, "; "))
		}
		if seen[ns] {
			continue
		}
		seen[ns] = true
		if !o.skipNamespace {
			obj("v1", "Namespace", ns, "", nil)
		}
		obj("v1", "ServiceAccount", sa, ns, nil)
		obj("rbac.authorization.k8s.io/v1", "RoleBinding", name+"-reconciler", ns, map[string]any{
			"roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": o.clusterRole},
			"subjects": []any{
				map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "gotk:" + ns + ":reconciler"},
				map[string]any{"kind": "ServiceAccount", "name": sa, "namespace": ns},
			},
		})
	}
	return objs, nil
}
