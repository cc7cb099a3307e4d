// Package cli builds the `flux` command line: cobra command constructors with
// no package-level state. cmd/flux only wires them to os.Args.
package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	addKubeFlags(root.PersistentFlags(), f)
	root.PersistentFlags().DurationVar(&f.Timeout, "timeout", f.Timeout, "how long commands that wait may wait")
	root.AddCommand(newVersionCommand(version, f.Out))
	root.AddCommand(newCreateCommand(f), newReconcileCommand(f), newSuspendCommand(f), newResumeCommand(f), newDeleteCommand(f))
	root.AddCommand(newGetCommand(f))
	root.AddCommand(newExportCommand(f))
	root.AddCommand(newDescribeCommand(f))
	root.AddCommand(newEventsCommand(f))
	root.AddCommand(newTreeCommand(f))
	root.AddCommand(newTraceCommand(f))
	root.AddCommand(newEnvsubstCommand(f))
	root.AddCommand(newCompletionCommand(f))
	root.AddCommand(newBuildCommand(f))
	root.AddCommand(newDiffCommand(f))
	return root
}

// addKubeFlags adds kubectl's connection flags. --server has no -s
// shorthand, as in Flux: -s is --silent on delete and bootstrap.
func addKubeFlags(fs *pflag.FlagSet, f *Factory) {
	kube := pflag.NewFlagSet("kube", pflag.ContinueOnError)
	f.Kube.AddFlags(kube)
	kube.VisitAll(func(fl *pflag.Flag) {
		if fl.Name == "server" {
			fl.Shorthand = ""
		}
		fs.AddFlag(fl)
	})
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
