package cli

import (
	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/kinds"
)

// addShowSourceFlag adds --show-source to `flux get` of a kind that reads
// a source (Kustomization; HelmRelease once it is in the catalogue).
func addShowSourceFlag(cmd *cobra.Command, o *getOptions, k kinds.Kind) {
	if k.Source == nil {
		return
	}
	cmd.Flags().BoolVar(&o.showSource, "show-source", false,
		"add a SOURCE column with the source of each object, as Kind/namespace/name")
}

// sourceColumn is the SOURCE column of obj: its source as Kind/namespace/name.
func sourceColumn(k kinds.Kind, obj kinds.Object) string {
	if k.Source == nil {
		return ""
	}
	ref := k.Source(obj)
	return ref.Kind + "/" + ref.Namespace + "/" + ref.Name
}
