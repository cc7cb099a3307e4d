// Package cluster runs a local Kubernetes control plane: it prepares the data
// directory (lock, ports, certificates, component configuration), starts
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK as
// supervised child processes, creates the fake nodes, applies the requested
// manifests, writes the admin kubeconfig once everything is usable, and
// stops the components again on a signal or when one of them fails.
package cluster

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// MaxNodes bounds --nodes: each node gets a /18 of the /10 pod network.
const MaxNodes = 256

// Options are the command-line settings of a run.
type Options struct {
	DataDir string
	Nodes   int
	Apply   []string
	// APIServerPort is the API server's port; 0 picks a free one.
	APIServerPort int
}

// UsageError is a command-line mistake.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	if v == "" {
		return errors.New("empty path")
	}
	*s = append(*s, v)
	return nil
}

// Parse parses the command line (without the program name). Usage and flag
// errors are written to out. With -h or --help it returns flag.ErrHelp.
func Parse(args []string, out io.Writer) (Options, error) {
	var opts Options
	fs := flag.NewFlagSet("localcluster", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&opts.DataDir, "data-dir", "", "directory for the cluster's data, certificates, logs and kubeconfig (required)")
	fs.IntVar(&opts.Nodes, "nodes", 1, fmt.Sprintf("number of fake nodes (1-%d)", MaxNodes))
	fs.Var((*stringList)(&opts.Apply), "apply", "YAML file or directory of *.yaml files to server-side apply once the API server is ready (repeatable)")
	fs.IntVar(&opts.APIServerPort, "apiserver-port", 0, "API server port on 127.0.0.1 (default: the previous run's port if free, else any free port)")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: localcluster --data-dir DIR [--nodes N] [--apply PATH]... [--apiserver-port P]\n\n")
		fmt.Fprintf(out, "Runs a local Kubernetes control plane in the foreground until SIGINT or SIGTERM.\n")
		fmt.Fprintf(out, "DIR/kubeconfig appears once the cluster is ready.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opts, err
		}
		return opts, &UsageError{Msg: err.Error()}
	}
	if err := opts.validate(fs.Args()); err != nil {
		return opts, err
	}
	abs, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return opts, fmt.Errorf("data directory %s: %w", opts.DataDir, err)
	}
	opts.DataDir = abs
	return opts, nil
}

func (o *Options) validate(rest []string) error {
	switch {
	case len(rest) > 0:
		return &UsageError{Msg: fmt.Sprintf("unexpected argument %q (flags only)", rest[0])}
	case o.DataDir == "":
		return &UsageError{Msg: "--data-dir is required"}
	case o.Nodes < 1 || o.Nodes > MaxNodes:
		return &UsageError{Msg: fmt.Sprintf("--nodes must be between 1 and %d, got %d", MaxNodes, o.Nodes)}
	case o.APIServerPort < 0 || o.APIServerPort > 65535:
		return &UsageError{Msg: fmt.Sprintf("--apiserver-port must be between 1 and 65535, got %d", o.APIServerPort)}
	}
	return nil
}
