// Command flux is the Driftless command line, compatible with Flux's.
package main

import (
	"fmt"
	"os"

	"github.com/driftless/driftless/internal/cli"
	"github.com/driftless/driftless/internal/version"
)

func main() {
	f := cli.NewFactory(os.Stdin, os.Stdout, os.Stderr)
	if err := cli.NewRootCommand(version.Version, f).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "✗ %v\n", err)
		os.Exit(1)
	}
}
