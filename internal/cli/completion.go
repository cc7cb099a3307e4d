package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// newCompletionCommand is `flux completion bash|zsh|fish|powershell`, one
// subcommand per shell as in Flux, with cobra's generators.
func newCompletionCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion",
		Short: "Print the shell completion script of flux",
		Example: `  # Load completions in the current bash session
  source <(flux completion bash)

  # zsh
  flux completion zsh > "${fpath[1]}/_flux"`,
	}
	for _, sh := range []struct {
		name string
		gen  func(root *cobra.Command, w io.Writer) error
	}{
		{"bash", func(r *cobra.Command, w io.Writer) error { return r.GenBashCompletionV2(w, true) }},
		{"fish", func(r *cobra.Command, w io.Writer) error { return r.GenFishCompletion(w, true) }},
		{"powershell", func(r *cobra.Command, w io.Writer) error { return r.GenPowerShellCompletionWithDesc(w) }},
		{"zsh", func(r *cobra.Command, w io.Writer) error { return r.GenZshCompletion(w) }},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   sh.name,
			Short: "Print the " + sh.name + " completion script of flux",
			Args:  cobra.NoArgs,
			RunE:  func(c *cobra.Command, _ []string) error { return sh.gen(c.Root(), f.Out) },
		})
	}
	return cmd
}
