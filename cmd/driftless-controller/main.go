// Command driftless-controller runs the Driftless controllers in one process.
//
// No controller exists yet: this binary says so and exits, so nobody mistakes
// it for a working manager. The README's feature table tracks what lands.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/driftless/driftless/internal/version"
)

func main() {
	fs := flag.NewFlagSet("driftless-controller", flag.ContinueOnError)
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *showVersion {
		fmt.Printf("driftless-controller %s\n", version.Version)
		return
	}
	fmt.Fprintln(os.Stderr, "driftless-controller: no controllers are implemented yet (see the feature table in README.md)")
	os.Exit(1)
}
