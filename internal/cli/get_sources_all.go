package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// addGetSourcesAll adds `flux get sources all` to the `get sources` group of
// get, and `flux get images all` to `get images`, when the catalogue has
// kinds in them.
func addGetSourcesAll(get *cobra.Command, f *Factory, o *getOptions) {
	if sources := subcommandNamed(get, "sources"); sources != nil {
		sources.AddCommand(newGetSourcesAllCommand(f, o, catalogueSourceKinds))
	}
	if images := subcommandNamed(get, "images"); images != nil {
		images.AddCommand(newGetGroupAllCommand(f, o, catalogueImageKinds, "image automation object", "no image automation objects",
			`  # Every ImageRepository, ImagePolicy and ImageUpdateAutomation of the current namespace
  flux get images all

  # Those that are not ready, in any namespace
  flux get images all -A --status-selector ready=false`))
	}
}

// catalogueSourceKinds are the catalogue's kinds under `flux <verb> source`.
func catalogueSourceKinds() []kinds.Kind { return catalogueGroup("source") }

// catalogueImageKinds are the catalogue's kinds under `flux <verb> image`.
func catalogueImageKinds() []kinds.Kind { return catalogueGroup("image") }

// catalogueGroup is the catalogue's kinds under `flux <verb> <group>`.
func catalogueGroup(group string) []kinds.Kind {
	var out []kinds.Kind
	for _, k := range kinds.All() {
		if k.Command.Group == group {
			out = append(out, k)
		}
	}
	return out
}

// newGetSourcesAllCommand is `flux get sources all`: one table per source
// kind that has objects, rows named kind/name as in `get all`. A kind whose
// CRD is not installed is left out without a word, as Flux does.
// sources are the kinds it lists.
func newGetSourcesAllCommand(f *Factory, o *getOptions, sources func() []kinds.Kind) *cobra.Command {
	return newGetGroupAllCommand(f, o, sources, "source", "no sources", `  # Every source of the current namespace
  flux get sources all

  # Every source that is not ready, in any namespace
  flux get sources all -A --status-selector ready=false`)
}

// newGetGroupAllCommand is `flux get <group>s all` over the kinds of ks:
// noun names one object of the group in its help, none says that nothing
// was found.
func newGetGroupAllCommand(f *Factory, o *getOptions, ks func() []kinds.Kind, noun, none, example string) *cobra.Command {
	var names, watches []string
	for _, k := range ks() {
		names = append(names, k.Kind)
		watches = append(watches, "flux get "+k.Command.GetPath()+" -w")
	}
	return &cobra.Command{
		Use:     "all",
		Short:   "Get the status of every " + noun + ": " + strings.Join(names, ", "),
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.watch {
				return fmt.Errorf("--watch needs one kind: use %s", strings.Join(watches, " or "))
			}
			g, err := newGetter(f, o, "")
			if err != nil {
				return err
			}
			return g.printAll(cmd.Context(), f.Err, ks(), none)
		},
	}
}

// printAll prints every object of ks: one table per kind that has objects
// (rows named kind/name), or all of them in one -o document. A kind whose
// CRD is not installed is left out without a word, as Flux does; none says
// what was not found when nothing was ("no sources").
func (g *getter) printAll(ctx context.Context, errOut io.Writer, ks []kinds.Kind, none string) error {
	var all []client.Object
	tables := 0
	for _, k := range ks {
		objs, err := g.list(ctx, k)
		if apimeta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return err
		}
		all = append(all, objs...)
		if !g.tabular() || len(objs) == 0 {
			continue
		}
		if tables > 0 {
			fmt.Fprintln(g.out)
		}
		tables++
		if err := g.table(ctx, g.out, k, objs, true); err != nil {
			return err
		}
	}
	if g.tabular() {
		if tables == 0 {
			fmt.Fprintf(errOut, "%s found in %s\n", none, g.where())
		}
		return nil
	}
	return printObjects(g.out, g.client.Scheme(), g.output, all, false)
}
