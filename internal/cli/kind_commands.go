package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/kinds"
)

// addKindCommands adds to verb one command per kind of the catalogue, made
// by kindCommand, under the command of the kind's group ("source") when it
// has one; group makes that command the first time a kind needs it. A
// kind for which kindCommand returns nil has no command under verb.
func addKindCommands(verb *cobra.Command, group func(name string) *cobra.Command, kindCommand func(kinds.Kind) *cobra.Command) {
	groups := map[string]*cobra.Command{}
	for _, k := range kinds.All() {
		cmd := kindCommand(k)
		if cmd == nil {
			continue
		}
		if k.Command.Group == "" {
			verb.AddCommand(cmd)
			continue
		}
		g, ok := groups[k.Command.Group]
		if !ok {
			g = group(k.Command.Group)
			groups[k.Command.Group] = g
			verb.AddCommand(g)
		}
		g.AddCommand(cmd)
	}
}

// orName is the kind's aliases and then its other name: the plural when
// the command uses the singular (kustomization: ks, kustomizations) and
// the other way round, for the verbs that read objects and take both.
func orName(k kinds.Kind, used string) []string {
	other := k.Command.Plural
	if used == k.Command.Plural {
		other = k.Command.Name
	}
	if other == used {
		return k.Command.Aliases
	}
	return append(append([]string(nil), k.Command.Aliases...), other)
}

// withArticle is noun after "a" or "an": an OCIRepository, a GitRepository.
func withArticle(noun string) string {
	if noun != "" && strings.ContainsRune("AEIOUaeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
