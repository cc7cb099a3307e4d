package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
)

// addGetSourcesAll adds `flux get sources all` to the `get sources` group of
// get, when the catalogue has source kinds.
func addGetSourcesAll(get *cobra.Command, f *Factory, o *getOptions) {
	if sources := subcommandNamed(get, "sources"); sources != nil {
		sources.AddCommand(newGetSourcesAllCommand(f, o, catalogueSourceKinds))
	}
}

// catalogueSourceKinds are the catalogue's kinds under `flux <verb> source`.
func catalogueSourceKinds() []kinds.Kind {
	var out []kinds.Kind
	for _, k := range kinds.All() {
		if k.Command.Group == "source" {
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
	var names, watches []string
	for _, k := range sources() {
		names = append(names, k.Kind)
		watches = append(watches, "flux get "+k.Command.GetPath()+" -w")
	}
	return &cobra.Command{
		Use:   "all",
		Short: "Get the status of every source: " + strings.Join(names, ", "),
		Example: `  # Every source of the current namespace
  flux get sources all

  # Every source that is not ready, in any namespace
  flux get sources all -A --status-selector ready=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.watch {
				return fmt.Errorf("--watch needs one kind: use %s", strings.Join(watches, " or "))
			}
			g, err := newGetter(f, o, "")
			if err != nil {
				return err
			}
			var all []client.Object
			tables := 0
			for _, k := range sources() {
				objs, err := g.list(cmd.Context(), k)
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
					fmt.Fprintln(f.Out)
				}
				tables++
				if err := g.table(f.Out, k, objs, true); err != nil {
					return err
				}
			}
			if g.tabular() {
				if tables == 0 {
					fmt.Fprintf(f.Err, "no sources found in %s\n", g.where())
				}
				return nil
			}
			return printObjects(f.Out, g.client.Scheme(), o.output, all, false)
		},
	}
}
