package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/apply"
)

// treeObject names one object of the tree; its JSON field names are those
// of Flux's `tree -o json`.
type treeObject struct {
	Namespace string        `json:"Namespace"`
	Name      string        `json:"Name"`
	GroupKind treeGroupKind `json:"GroupKind"`
}

type treeGroupKind struct {
	Group string `json:"Group"`
	Kind  string `json:"Kind"`
}

// treeNode is an object and, for a Kustomization or HelmRelease, what it applied.
type treeNode struct {
	Resource  treeObject  `json:"resource"`
	Resources []*treeNode `json:"resources,omitempty"`
}

func (o treeObject) String() string {
	if o.Namespace == "" {
		return o.GroupKind.Kind + "/" + o.Name
	}
	return o.GroupKind.Kind + "/" + o.Namespace + "/" + o.Name
}

func (o treeObject) isKustomization() bool {
	return o.GroupKind.Group == kustomizev1.GroupVersion.Group && o.GroupKind.Kind == kustomizev1.KustomizationKind
}

func (o treeObject) isHelmRelease() bool {
	return o.GroupKind.Group == helmv2.GroupVersion.Group && o.GroupKind.Kind == helmv2.HelmReleaseKind
}

func newTreeCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tree",
		Short: "Print the objects a Flux resource manages as a tree",
	}
	cmd.AddCommand(newTreeKustomizationCommand(f), newTreeArtifactCommand(f))
	return cmd
}

func newTreeKustomizationCommand(f *Factory) *cobra.Command {
	var (
		compact bool
		output  string
	)
	cmd := &cobra.Command{
		Use:     "kustomization NAME",
		Aliases: []string{"ks", "kustomizations"},
		Short:   "Print the inventory of a Kustomization as a tree, with the inventories of the Kustomizations it applied",
		Example: "  flux tree kustomization flux-system\n  flux tree ks apps --compact -o json",
		Args:    oneTreeRoot("Kustomization", "flux get kustomizations"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTreeOutput(output); err != nil {
				return err
			}
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			ks := &kustomizev1.Kustomization{}
			if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: args[0]}, ks); err != nil {
				return notFoundError(err, kustomizev1.KustomizationKind, args[0], ns)
			}
			root := &treeNode{Resource: treeObject{Namespace: ns, Name: args[0],
				GroupKind: treeGroupKind{Group: kustomizev1.GroupVersion.Group, Kind: kustomizev1.KustomizationKind}}}
			b := &treeBuilder{client: c, compact: compact, seen: map[string]bool{root.Resource.String(): true}}
			if err := b.fill(cmd.Context(), root, ks); err != nil {
				return err
			}
			if output != "" {
				return encodeDoc(f.Out, output, root)
			}
			fmt.Fprintln(f.Out, root.Resource)
			printTree(f.Out, root.Resources, "")
			return nil
		},
	}
	cmd.Flags().BoolVar(&compact, "compact", false, "show only Flux resources, not the other objects they apply")
	cmd.Flags().StringVarP(&output, "output", "o", "", "print the tree as json or yaml")
	return cmd
}

// treeBuilder walks inventories; seen guards against a Kustomization that
// (through others) applies itself.
type treeBuilder struct {
	client  client.Client
	compact bool
	seen    map[string]bool
}

// fill adds the inventory of ks under node, recursing into the
// Kustomizations and HelmReleases it lists.
func (b *treeBuilder) fill(ctx context.Context, node *treeNode, ks *kustomizev1.Kustomization) error {
	if ks.Status.Inventory == nil {
		return nil
	}
	ids := make([]string, 0, len(ks.Status.Inventory.Entries))
	for _, e := range ks.Status.Inventory.Entries {
		ids = append(ids, e.ID)
	}
	return b.fillIDs(ctx, node, ids)
}

// fillIDs adds the objects of inventory entry IDs under node, and under
// each Kustomization and HelmRelease among them what that one applied.
func (b *treeBuilder) fillIDs(ctx context.Context, node *treeNode, ids []string) error {
	for _, id := range ids {
		obj, err := parseInventoryID(id)
		if err != nil {
			return fmt.Errorf("%s: %w", node.Resource, err)
		}
		if b.compact && !isFluxGroup(obj.GroupKind.Group) {
			continue
		}
		child := &treeNode{Resource: obj}
		node.Resources = append(node.Resources, child)
		if !(obj.isKustomization() || obj.isHelmRelease()) || b.seen[obj.String()] {
			continue
		}
		b.seen[obj.String()] = true
		key := client.ObjectKey{Namespace: obj.Namespace, Name: obj.Name}
		if obj.isHelmRelease() {
			err = b.fillHelmRelease(ctx, child, key)
		} else {
			nested := &kustomizev1.Kustomization{}
			err = b.client.Get(ctx, key, nested)
			if err == nil {
				err = b.fill(ctx, child, nested)
			}
		}
		if apierrors.IsNotFound(err) {
			continue // listed, but since deleted: a leaf
		}
		if err != nil {
			return fmt.Errorf("getting %s %s: %w", obj.GroupKind.Kind, obj, err)
		}
	}
	return nil
}

// fillHelmRelease adds what the HelmRelease released (status.inventory,
// entries as a Kustomization's) under node.
func (b *treeBuilder) fillHelmRelease(ctx context.Context, node *treeNode, key client.ObjectKey) error {
	hr := &helmv2.HelmRelease{}
	if err := b.client.Get(ctx, key, hr); err != nil {
		return err
	}
	if hr.Status.Inventory == nil {
		return nil
	}
	ids := make([]string, 0, len(hr.Status.Inventory.Entries))
	for _, e := range hr.Status.Inventory.Entries {
		ids = append(ids, e.ID)
	}
	return b.fillIDs(ctx, node, ids)
}

// parseInventoryID reads '<namespace>_<name>_<group>_<kind>' as the
// applier writes it (a ':' in a name is written '__').
func parseInventoryID(id string) (treeObject, error) {
	ref, err := apply.ParseID(id, "")
	if err != nil {
		return treeObject{}, err
	}
	return treeObject{Namespace: ref.Namespace, Name: ref.Name, GroupKind: treeGroupKind{Group: ref.Group, Kind: ref.Kind}}, nil
}

// printTree draws nodes below a parent line with box-drawing branches.
func printTree(w io.Writer, nodes []*treeNode, prefix string) {
	for i, n := range nodes {
		branch, indent := "├── ", "│   "
		if i == len(nodes)-1 {
			branch, indent = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, n.Resource)
		printTree(w, n.Resources, prefix+indent)
	}
}

// oneTreeRoot is the Args check of a tree command: one name, of a kind
// that list (a command) shows.
func oneTreeRoot(kind, list string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("give the name of one %s (%s lists them)", kind, list)
		}
		return nil
	}
}

// checkTreeOutput refuses an -o a tree command cannot print.
func checkTreeOutput(output string) error {
	switch output {
	case "", outputJSON, outputYAML:
		return nil
	}
	return fmt.Errorf("unknown output format %q: use json or yaml, or leave -o out for the tree", output)
}
