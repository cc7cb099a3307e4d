// Command driftless-controller runs the Driftless controllers in one process
// with one shared cache. --controllers selects a subset, so the Flux-style
// split into several processes (and sharding) still works.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/driftless/driftless/internal/controller"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/version"
)

func main() {
	var opts manager.Options
	available := controller.All()
	fs := pflag.NewFlagSet("driftless-controller", pflag.ContinueOnError)
	manager.BindFlags(fs, &opts, available)
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return
		}
		// ContinueOnError leaves the message to the caller.
		fmt.Fprintf(os.Stderr, "driftless-controller: %v\n", err)
		os.Exit(2)
	}
	if *showVersion {
		fmt.Printf("driftless-controller %s\n", version.Version)
		return
	}
	logger, err := manager.NewLogger(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "driftless-controller: %v\n", err)
		os.Exit(2)
	}
	ctrl.SetLogger(logger)
	if err := manager.Run(ctrl.SetupSignalHandler(), opts, available, logger); err != nil {
		// Plain text: most of these are start-up problems a person must read.
		fmt.Fprintf(os.Stderr, "driftless-controller: %v\n", err)
		os.Exit(1)
	}
}
