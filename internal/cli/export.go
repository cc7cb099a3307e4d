package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// exportOptions are the flags of `flux export`.
type exportOptions struct {
	all             bool
	withCredentials bool
}

func newExportCommand(f *Factory) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export Flux resources as YAML that can be applied again",
		Long: "Export prints Flux resources as YAML documents separated by ---, without status and the\n" +
			"metadata the API server sets, so the output can be applied to another namespace or cluster.",
	}
	cmd.PersistentFlags().BoolVar(&o.all, "all", false, "export every object of the kind in the namespace")
	addKindCommands(cmd, func(group string) *cobra.Command {
		return &cobra.Command{Use: group, Short: "Export " + group + "s"}
	}, func(k kinds.Kind) *cobra.Command {
		kc := newExportKindCommand(f, o, k)
		if k.SecretRef != nil {
			kc.Flags().BoolVar(&o.withCredentials, "with-credentials", false, "also export the Secret that spec.secretRef names")
		}
		return kc
	})
	return cmd
}

func newExportKindCommand(f *Factory, o *exportOptions, k kinds.Kind) *cobra.Command {
	return &cobra.Command{
		Use:     k.Command.Name + " [name]",
		Aliases: orName(k, k.Command.Name),
		Short:   "Export " + k.Command.Nouns,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !o.all {
				return fmt.Errorf("name is required: give the name of the %s to export, or --all", k.Kind)
			}
			if len(args) == 1 && o.all {
				return fmt.Errorf("give either a name or --all, not both")
			}
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			var objs []kinds.Object
			if o.all {
				list := k.NewList()
				if err := c.List(cmd.Context(), list, client.InNamespace(ns)); err != nil {
					return fmt.Errorf("listing %s objects: %w", k.Kind, err)
				}
				if objs = k.Items(list); len(objs) == 0 {
					fmt.Fprintf(f.Err, "no %s objects found in %q namespace\n", k.Kind, ns)
					return nil
				}
			} else {
				obj := k.New()
				if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: args[0]}, obj); err != nil {
					return notFoundError(err, k.Kind, args[0], ns)
				}
				objs = append(objs, obj)
			}
			for _, obj := range objs {
				if err := exportObject(f.Out, c.Scheme(), obj); err != nil {
					return err
				}
				if o.withCredentials {
					if err := exportCredentials(cmd.Context(), f.Out, c, k, obj); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// exportObject writes obj as one YAML document with only what a user would
// write: apiVersion, kind, name, namespace, labels, annotations and spec.
func exportObject(w io.Writer, scheme *apiruntime.Scheme, obj client.Object) error {
	m, err := objectToMap(scheme, obj)
	if err != nil {
		return err
	}
	doc := map[string]any{"apiVersion": m["apiVersion"], "kind": m["kind"], "metadata": exportMetadata(obj)}
	for _, field := range []string{"type", "spec", "data"} {
		if v, ok := m[field]; ok {
			doc[field] = v
		}
	}
	fmt.Fprintln(w, "---")
	return encodeDoc(w, outputYAML, doc)
}

// exportMetadata keeps the metadata a user sets; uid, resourceVersion,
// generation, creationTimestamp, managedFields, finalizers and owner
// references belong to the cluster the object came from.
func exportMetadata(obj client.Object) map[string]any {
	md := map[string]any{"name": obj.GetName(), "namespace": obj.GetNamespace()}
	if l := obj.GetLabels(); len(l) > 0 {
		md["labels"] = l
	}
	if a := obj.GetAnnotations(); len(a) > 0 {
		md["annotations"] = a
	}
	return md
}

// exportCredentials writes the Secret that obj's spec.secretRef names.
func exportCredentials(ctx context.Context, w io.Writer, c client.Client, k kinds.Kind, obj kinds.Object) error {
	if k.SecretRef == nil || k.SecretRef(obj) == "" {
		return nil
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: obj.GetNamespace(), Name: k.SecretRef(obj)}
	if err := c.Get(ctx, key, secret); err != nil {
		return fmt.Errorf("%s %s/%s names Secret %q in spec.secretRef: %w",
			k.Kind, obj.GetNamespace(), obj.GetName(), key.Name, notFoundError(err, "Secret", key.Name, key.Namespace))
	}
	return exportObject(w, c.Scheme(), secret)
}
