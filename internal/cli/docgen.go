package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// newDocgenCommand is the hidden `flux docgen --path DIR`: one markdown
// page per command, named for its path (flux_get_sources_git.md), as the
// pages of Flux's CLI reference are.
func newDocgenCommand(f *Factory) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "docgen",
		Short:  "Generate the markdown reference of the flux command line",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--path is required: the directory to write the markdown pages to")
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("--path %s: %w", dir, err)
			}
			n, err := writeDocs(cmd.Root(), dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.Err, "✔ wrote %d pages to %s\n", n, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "path", "", "directory to write the pages to (required)")
	return cmd
}

// docCommands are the commands that get a page: every available one.
func docCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			out = append(out, sub)
		}
	}
	return out
}

// writeDocs writes the page of c and of every command below it.
func writeDocs(c *cobra.Command, dir string) (int, error) {
	n := 0
	for _, sub := range docCommands(c) {
		m, err := writeDocs(sub, dir)
		if err != nil {
			return n, err
		}
		n += m
	}
	name := filepath.Join(dir, docFileName(c))
	if err := os.WriteFile(name, []byte(docPage(c)), 0o644); err != nil {
		return n, fmt.Errorf("writing %s: %w", name, err)
	}
	return n + 1, nil
}

func docFileName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

// docPage is the markdown page of one command.
func docPage(c *cobra.Command) string {
	c.InitDefaultHelpFlag()
	var b bytes.Buffer
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", c.CommandPath(), c.Short)
	if c.Long != "" {
		fmt.Fprintf(&b, "### Synopsis\n\n%s\n\n", c.Long)
	}
	if c.Runnable() {
		fmt.Fprintf(&b, "```\n%s\n```\n\n", c.UseLine())
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "### Examples\n\n```\n%s\n```\n\n", c.Example)
	}
	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(&b, "### Options\n\n```\n%s```\n\n", fs.FlagUsages())
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(&b, "### Options inherited from parent commands\n\n```\n%s```\n\n", fs.FlagUsages())
	}
	var see []string
	if p := c.Parent(); p != nil {
		see = append(see, fmt.Sprintf("* [%s](%s)\t - %s", p.CommandPath(), docFileName(p), p.Short))
	}
	for _, sub := range docCommands(c) {
		see = append(see, fmt.Sprintf("* [%s](%s)\t - %s", sub.CommandPath(), docFileName(sub), sub.Short))
	}
	if len(see) > 0 {
		fmt.Fprintf(&b, "### SEE ALSO\n\n%s\n", strings.Join(see, "\n"))
	}
	return b.String()
}
