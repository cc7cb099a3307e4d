// Package cli builds the `flux` command line: cobra command constructors with
// no package-level state. cmd/flux only wires them to os.Args.
package cli

import (
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
	addGlobalFlags(root.PersistentFlags(), f)
	root.AddCommand(newVersionCommand(version, f))
	root.AddCommand(newCreateCommand(f), newReconcileCommand(f), newSuspendCommand(f), newResumeCommand(f), newDeleteCommand(f))
	root.AddCommand(newGetCommand(f))
	root.AddCommand(newExportCommand(f))
	root.AddCommand(newTriggerCommand(f))
	root.AddCommand(newDescribeCommand(f))
	root.AddCommand(newEventsCommand(f))
	root.AddCommand(newTreeCommand(f))
	root.AddCommand(newTraceCommand(f))
	root.AddCommand(newEnvsubstCommand(f))
	root.AddCommand(newCompletionCommand(f))
	root.AddCommand(newBuildCommand(f))
	root.AddCommand(newDiffCommand(f))
	root.AddCommand(newPushCommand(f), newPullCommand(f), newTagCommand(f), newListCommand(f))
	root.AddCommand(newMigrateCommand(f))
	root.AddCommand(newDebugCommand(f))
	root.AddCommand(newLogsCommand(f))
	root.AddCommand(newInstallCommand(f, version))
	root.AddCommand(newUninstallCommand(f, version))
	root.AddCommand(newCheckCommand(f, version))
	root.AddCommand(newBootstrapCommand(f, version))
	root.AddCommand(newStatsCommand(f), newPluginCommand(f), newDocgenCommand(f))
	root.AddCommand(newUICommand(f))
	completeTree(root, f)
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
