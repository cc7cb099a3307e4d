package cli

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// fluxCommandsFile lists every command path of Flux v2.9.4's CLI, one per
// line ('#' starts a comment). It is the contract of the command tree: each
// path exists in Driftless's, built or as a not-built stub.
//
//go:embed testdata/flux-commands.txt
var fluxCommandsFile string

// notBuiltAnnotation marks a stub; its value is the command path after "flux".
const notBuiltAnnotation = "driftless.dev/not-built"

// FluxCommandPaths returns the command paths of Flux's CLI, without the
// leading "flux" ("create source git"), in the order of the list.
func FluxCommandPaths() []string {
	var paths []string
	for _, line := range strings.Split(fluxCommandsFile, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if words := strings.Fields(line); len(words) > 0 {
			paths = append(paths, strings.Join(words, " "))
		}
	}
	return paths
}

// notBuiltMessage is what a stub says, on every run and in its help.
func notBuiltMessage(path string) string {
	return fmt.Sprintf("`flux %s`: not built yet in Driftless (see the README's feature table)", path)
}

// IsNotBuilt reports whether cmd is a not-built stub.
func IsNotBuilt(cmd *cobra.Command) bool {
	_, ok := cmd.Annotations[notBuiltAnnotation]
	return ok
}

// addNotBuiltStubs adds a stub for each path of Flux's CLI that the tree
// under root does not have yet, with the commands above it that are missing
// too. It runs once every real command is registered, so a real command
// replaces its stub by existing.
func addNotBuiltStubs(root *cobra.Command) {
	for _, path := range FluxCommandPaths() {
		words := strings.Fields(path)
		parent := root
		for i, w := range words {
			child := subcommandNamed(parent, w)
			if child == nil {
				sub := strings.Join(words[:i+1], " ")
				if i == len(words)-1 {
					child = newNotBuiltCommand(sub)
				} else {
					child = newNotBuiltGroup(sub)
				}
				parent.AddCommand(child)
			}
			parent = child
		}
	}
}

// newNotBuiltCommand is the stub of the command path: it takes any
// arguments and flags (a script written for Flux fails with the message,
// not with a usage error), and fails.
func newNotBuiltCommand(path string) *cobra.Command {
	msg := notBuiltMessage(path)
	words := strings.Fields(path)
	return &cobra.Command{
		Use:   words[len(words)-1],
		Short: msg,
		Long: msg + ".\n\nFlux's command line has `flux " + path + "`; Driftless knows the command so that a script\n" +
			"written for Flux stops here with this message, and exits non-zero.",
		DisableFlagParsing: true,
		Annotations:        map[string]string{notBuiltAnnotation: path},
		RunE: func(*cobra.Command, []string) error {
			return errors.New(msg)
		},
	}
}

// newNotBuiltGroup is a command that only groups stubs (`flux debug`).
func newNotBuiltGroup(path string) *cobra.Command {
	words := strings.Fields(path)
	return &cobra.Command{
		Use:   words[len(words)-1],
		Short: "The `flux " + path + "` commands (none built yet in Driftless, see the README's feature table)",
	}
}
