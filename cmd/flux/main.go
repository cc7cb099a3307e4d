// Command flux is the Driftless command line, compatible with Flux's.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/driftless/driftless/internal/cli"
	"github.com/driftless/driftless/internal/version"
)

func main() {
	f := cli.NewFactory(os.Stdin, os.Stdout, os.Stderr)
	if err := cli.NewRootCommand(version.Version, f).Execute(); err != nil {
		code := 1
		// A command may ask for its own exit code (flux diff: 1 for a
		// difference, 2 for an error).
		var exit *cli.ExitError
		if errors.As(err, &exit) {
			code = exit.Code
			err = exit.Err
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "✗ %v\n", err)
		}
		os.Exit(code)
	}
}
