// Package cli builds the `flux` command line: cobra command constructors with
// no package-level state. cmd/flux only wires them to os.Args.
package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// NewRootCommand returns the `flux` command with every subcommand that exists.
func NewRootCommand(version string, f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "flux",
		Short:         "Command line for Driftless, the Flux-compatible GitOps toolkit",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(f.Out)
	root.SetErr(f.Err)
	root.SetVersionTemplate("flux version {{.Version}}\n")
	f.Kube.AddFlags(root.PersistentFlags())
	root.PersistentFlags().DurationVar(&f.Timeout, "timeout", f.Timeout, "how long commands that wait may wait")
	root.AddCommand(newVersionCommand(version, f.Out))
	return root
}

func newVersionCommand(version string, out io.Writer) *cobra.Command {
	var client bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !client {
				return fmt.Errorf("reading the in-cluster version is not implemented yet; use --client")
			}
			_, err := fmt.Fprintf(out, "flux: %s\n", version)
			return err
		},
	}
	cmd.Flags().BoolVar(&client, "client", false, "print only the client version")
	return cmd
}
