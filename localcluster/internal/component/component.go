// Package component runs one control-plane component inside the current
// process. It is the child side of localcluster's multi-call binary: the
// supervisor re-executes the binary as `localcluster component NAME FLAGS...`
// (see cluster.Subcommand) and this package hands FLAGS to the component's
// own command.
package component

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kwokconfig "sigs.k8s.io/kwok/pkg/config"
	kwokcmd "sigs.k8s.io/kwok/pkg/kwok/cmd"
	kwoklog "sigs.k8s.io/kwok/pkg/log"
	kwoksignals "sigs.k8s.io/kwok/pkg/utils/signals"

	"github.com/driftless/driftless/localcluster/internal/cluster"
	"github.com/driftless/driftless/localcluster/internal/supervisor"

	// Registrations the upstream main packages make, kept so that the
	// components behave as their released binaries do.
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	_ "time/tzdata" // CronJob time zones without system tzdata
)

// Run runs the named component with args (its command-line flags) until it
// exits, and returns the process exit code.
func Run(name string, args []string) int {
	if want := os.Getenv(supervisor.ParentPIDEnv); want != "" && want != strconv.Itoa(os.Getppid()) {
		fmt.Fprintf(os.Stderr, "localcluster: %s: parent process %s is gone\n", name, want)
		return 1
	}
	switch name {
	case cluster.Etcd:
		// etcdmain returns (or exits) when etcd stops; on SIGTERM it closes
		// the store and ends the process by the same signal.
		etcdmain.Main(append([]string{cluster.Etcd}, args...))
		return 0
	case cluster.APIServer:
		cmd := apiserver.NewAPIServerCommand()
		cmd.SetArgs(nonNil(args))
		return cli.Run(cmd)
	case cluster.ControllerManager:
		cmd := controllermanager.NewControllerManagerCommand()
		cmd.SetArgs(nonNil(args))
		return cli.Run(cmd)
	case cluster.Scheduler:
		cmd := scheduler.NewSchedulerCommand()
		cmd.SetArgs(nonNil(args))
		return cli.Run(cmd)
	case cluster.KWOK:
		return runKWOK(args)
	default:
		fmt.Fprintf(os.Stderr, "localcluster: unknown component %q\n", name)
		return 2
	}
}

// runKWOK mirrors KWOK's own main: its logging and --config flags are parsed
// from the process arguments before the command itself runs.
func runKWOK(args []string) int {
	flags := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flags.ParseErrorsAllowlist.UnknownFlags = true
	flags.Usage = func() {}
	ctx := kwoksignals.SetupSignalContext()
	ctx, logger := kwoklog.InitFlags(ctx, flags)
	ctx, err := kwokconfig.InitFlags(ctx, flags)
	if err != nil {
		logger.Error("Load kwok configuration", "err", err)
		return 1
	}
	cmd := kwokcmd.NewCommand(ctx)
	// Kubernetes' verflag package registers a non-boolean --version on the
	// global pflag set, which cobra merges into every command; cobra's own
	// boolean --version handling would then fail on it.
	cmd.Version = ""
	cmd.PersistentFlags().AddFlagSet(flags)
	cmd.SetArgs(nonNil(args))
	if err := cmd.ExecuteContext(ctx); err != nil {
		logger.Error("Run kwok", "err", err)
		return 1
	}
	return 0
}

// nonNil keeps cobra from falling back to os.Args when there are no flags.
func nonNil(args []string) []string {
	if args == nil {
		return []string{}
	}
	return args
}
