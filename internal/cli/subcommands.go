package cli

import (
	"github.com/spf13/cobra"
)

// subcommandNamed is the direct subcommand of parent with that name
// (aliases do not count: a stub must not hide behind another's alias).
func subcommandNamed(parent *cobra.Command, name string) *cobra.Command {
	for _, c := range parent.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}
