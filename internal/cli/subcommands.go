package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// requireKnownSubcommands makes every command that only groups others
// (create, create source, get, get sources ...), the root included, refuse
// an unknown subcommand: cobra would print the group's help and exit 0, so
// `flux get helmreleasez` would look like success. A group given no
// argument still prints its help and exits 0, as Flux's does.
func requireKnownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		requireKnownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = knownSubcommand
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

// knownSubcommand is the Args of a group: no argument at all, since any
// argument is a subcommand cobra did not find.
func knownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, which only its own lookup sets
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return fmt.Errorf("%s: did you mean %s?", msg, quotedList(s, " or "))
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return fmt.Errorf("%s: use one of %s", msg, quotedList(names, ", "))
}

func quotedList(words []string, sep string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, sep)
}

// flagError names the command with cobra's message about a flag, which
// already names the flag ("unknown flag: --colour"), and for an unknown
// flag the closest one the command has.
func flagError(cmd *cobra.Command, err error) error {
	if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
		if near := closestFlag(cmd, name); near != "" {
			return fmt.Errorf("%s: %w: did you mean --%s? (see '%s --help')", cmd.CommandPath(), err, near, cmd.CommandPath())
		}
	}
	return fmt.Errorf("%s: %w (see '%s --help')", cmd.CommandPath(), err, cmd.CommandPath())
}

// closestFlag is the flag of cmd (its own or inherited) nearest to name:
// at most two edits away, or name a prefix of it; "" when none is.
func closestFlag(cmd *cobra.Command, name string) string {
	best, bestDist := "", 3
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && d > 1 {
			d = 1
		}
		if d < bestDist || (d == bestDist && f.Name < best) {
			best, bestDist = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// completeTree finishes the tree once every real command is registered:
// stubs for the paths of Flux's CLI not built yet, the plugins, groups that
// refuse unknown subcommands, and flag errors that name the command.
func completeTree(root *cobra.Command, f *Factory) {
	addNotBuiltStubs(root)
	addPluginCommands(root, f)
	requireKnownSubcommands(root)
	root.SetFlagErrorFunc(flagError)
}

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
