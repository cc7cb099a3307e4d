package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// newTreeArtifactCommand is `flux tree artifact`, the group of `flux tree
// artifact generator`.
func newTreeArtifactCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "artifact",
		Aliases: []string{"artifacts"},
		Short:   "Print the ExternalArtifacts an ArtifactGenerator manages as a tree",
	}
	cmd.AddCommand(newTreeArtifactGeneratorCommand(f))
	return cmd
}

// newTreeArtifactGeneratorCommand is `flux tree artifact generator NAME`:
// the ExternalArtifacts of the generator's status.inventory, in its order,
// as Flux prints them (no --compact: every entry is a Flux object).
func newTreeArtifactGeneratorCommand(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "generator NAME",
		Aliases: []string{"generators"},
		Short:   "Print the inventory of an ArtifactGenerator: the ExternalArtifacts it generated",
		Example: "  # Print the ExternalArtifacts managed by an ArtifactGenerator\n" +
			"  flux tree artifact generator my-generator\n  flux tree artifact generator my-generator -o json",
		Args: oneTreeRoot("ArtifactGenerator", "flux get artifacts generators"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTreeOutput(output); err != nil {
				return err
			}
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			g := &sourceextv1beta1.ArtifactGenerator{}
			if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: args[0]}, g); err != nil {
				return notFoundError(err, sourceextv1beta1.ArtifactGeneratorKind, args[0], ns)
			}
			root := generatorTree(g)
			if output != "" {
				return encodeDoc(f.Out, output, root)
			}
			fmt.Fprintln(f.Out, root.Resource)
			printTree(f.Out, root.Resources, "")
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "print the tree as json or yaml")
	return cmd
}

// generatorTree is g with one leaf per ExternalArtifact of its inventory.
func generatorTree(g *sourceextv1beta1.ArtifactGenerator) *treeNode {
	root := &treeNode{Resource: treeObject{Namespace: g.Namespace, Name: g.Name,
		GroupKind: treeGroupKind{Group: sourceextv1beta1.GroupVersion.Group, Kind: sourceextv1beta1.ArtifactGeneratorKind}}}
	for _, e := range g.Status.Inventory {
		root.Resources = append(root.Resources, &treeNode{Resource: treeObject{Namespace: e.Namespace, Name: e.Name,
			GroupKind: treeGroupKind{Group: sourcev1.GroupVersion.Group, Kind: sourcev1.ExternalArtifactKind}}})
	}
	return root
}
