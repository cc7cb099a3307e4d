// Package manager builds the one driftless-controller process: a single
// controller-runtime manager with one shared cache, running the controllers
// --controllers selects, with leader election, health probes and metrics.
package manager

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/driftless/driftless/api/scheme"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/reconcile"
)

// Controller is one of the controllers the process can run.
type Controller struct {
	// Name as --controllers spells it: "source", "kustomize"...
	Name string
	// Objects are the kinds it reconciles; --watch-label-selector filters them.
	Objects []client.Object
	// Cache narrows what the shared cache holds of other kinds the
	// controller watches (only labelled ConfigMaps and Secrets, say).
	Cache func(opts Options) (map[client.Object]cache.ByObject, error)
	// Setup adds the controller (and anything it serves) to the manager.
	Setup func(mgr ctrl.Manager, deps Deps) error
	// Flags, when not nil, registers the group's own flags on fs, bound to
	// the options the group holds. Every available group binds its flags,
	// selected or not, so the command line is the same whatever
	// --controllers says.
	Flags func(fs *pflag.FlagSet)
	// Gates are the feature gates the group knows, with Flux's defaults
	// for its controller; Options.FeatureGates.Enabled reads one.
	Gates []features.Gate
}

// CheckGates refuses a --feature-gates entry no selected group knows, or
// one a group cannot honour.
func CheckGates(opts Options, selected []Controller) error {
	var known []features.Gate
	for _, c := range selected {
		known = append(known, c.Gates...)
	}
	return opts.FeatureGates.Check(known)
}

// BindFlags registers the shared flags into opts and every available
// group's own flags.
func BindFlags(fs *pflag.FlagSet, opts *Options, available []Controller) {
	opts.BindFlags(fs)
	for _, c := range available {
		if c.Flags != nil {
			c.Flags(fs)
		}
	}
}

// Deps is what a controller's Setup gets from the manager.
type Deps struct {
	Options    Options
	Controller reconcile.ControllerOptions
	Metrics    *reconcile.Metrics
	Logger     logr.Logger
	// Events records the controllers' Kubernetes events; Recorder gives
	// each controller its own source.
	Events *reconcile.Events
	// Relay takes every group's events as Flux events for notification;
	// the notification group sets its dispatcher as the target.
	Relay *Relay
	// senders counts what Runtime's sinks record, for Run to wait for at
	// the end.
	senders *eventSenders
	// Grace ends --graceful-shutdown-timeout after the manager begins to
	// stop (never, when the timeout is negative). A group whose passes
	// must not be cut midway (helm: a cut Helm action leaves its release
	// locked) runs them on it, through reconcile.Runtime.Grace; the
	// others' passes end as the manager stops.
	Grace context.Context
}

// Runtime is what every kind of a controller group takes from the process
// (reconcile.Start); component names the events' source, as Flux's
// controllers do ("source-controller").
func (d Deps) Runtime(mgr ctrl.Manager, component string) reconcile.Runtime {
	return reconcile.Runtime{
		Events:            d.eventSink(mgr, component),
		Metrics:           d.Metrics,
		RequeueDependency: d.Options.RequeueDependency,
		Controller:        d.Controller,
	}
}

func (d Deps) eventSink(mgr ctrl.Manager, component string) reconcile.EventSink {
	var sink reconcile.EventSink
	if d.senders != nil {
		sink = d.senders.sink(mgr.GetScheme(), component)
	} else {
		sink = d.Events.Sink(mgr.GetScheme(), component)
	}
	if d.Relay != nil {
		sink = d.Relay.sink(sink, mgr.GetScheme(), component)
	}
	return sink
}

// Selected returns the controllers to run: those named in opts, or every
// available one. Naming one that does not exist yet is an error.
func Selected(opts Options, available []Controller) ([]Controller, error) {
	if len(opts.Controllers) == 0 {
		return available, nil
	}
	var out []Controller
	for _, name := range opts.Controllers {
		i := slices.IndexFunc(available, func(c Controller) bool { return c.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("the %s controller is not implemented yet; available: %s", name, names(available))
		}
		out = append(out, available[i])
	}
	return out, nil
}

func names(cs []Controller) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// RESTConfig loads --kubeconfig, or $KUBECONFIG, or the in-cluster config.
func RESTConfig(opts Options) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if opts.Kubeconfig != "" {
		rules.ExplicitPath = opts.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = opts.KubeAPIQPS, opts.KubeAPIBurst
	cfg.UserAgent = "driftless-controller"
	return cfg, nil
}

// New builds the manager with the selected controllers added.
func New(cfg *rest.Config, opts Options, selected []Controller, logger logr.Logger) (ctrl.Manager, error) {
	mgr, _, err := build(cfg, opts, selected, logger)
	return mgr, err
}

// build is New, also returning the event senders for Run to drain.
func build(cfg *rest.Config, opts Options, selected []Controller, logger logr.Logger) (ctrl.Manager, *eventSenders, error) {
	if err := CheckGates(opts, selected); err != nil {
		return nil, nil, err
	}
	s, err := scheme.New()
	if err != nil {
		return nil, nil, err
	}
	cacheOpts, err := cacheOptions(opts, selected)
	if err != nil {
		return nil, nil, err
	}
	if cfg.WarningHandler == nil && cfg.WarningHandlerWithContext == nil {
		cfg = rest.CopyConfig(cfg)
		cfg.WarningHandlerWithContext = newWarningLog(logger)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        s,
		Logger:                        logger,
		Cache:                         cacheOpts,
		Metrics:                       metricsOptions(opts),
		HealthProbeBindAddress:        opts.HealthAddr,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              leaderElectionID(opts),
		LeaderElectionNamespace:       runtimeNamespace(opts),
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &opts.LeaseDuration,
		RenewDeadline:                 &opts.RenewDeadline,
		RetryPeriod:                   &opts.LeaderRetryPeriod,
		GracefulShutdownTimeout:       &opts.GracefulShutdownTime,
		Controller:                    config.Controller{SkipNameValidation: &opts.SeveralManagersPerProcess},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create manager: %w", err)
	}
	if err := errors.Join(mgr.AddHealthzCheck("ping", healthz.Ping), mgr.AddReadyzCheck("ping", healthz.Ping)); err != nil {
		return nil, nil, err
	}
	metrics, err := reconcile.NewMetrics(metricsRegistry())
	if err != nil {
		return nil, nil, err
	}
	grace, endGrace := context.WithCancel(context.Background())
	if err := mgr.Add(graceTimer{grace: opts.GracefulShutdownTime, end: endGrace}); err != nil {
		endGrace()
		return nil, nil, err
	}
	events, err := startEvents(mgr, grace, logger)
	if err != nil {
		return nil, nil, err
	}
	relay, err := startRelay(mgr, opts, selected, grace, logger)
	if err != nil {
		return nil, nil, err
	}
	events.relay = relay
	deps := Deps{
		Relay:      relay,
		Options:    opts,
		Controller: reconcile.ControllerOptions{Concurrent: opts.Concurrent, Retry: opts.Retry},
		Metrics:    metrics,
		Logger:     logger,
		Events:     events.events,
		senders:    events,
		Grace:      grace,
	}
	for _, c := range selected {
		if err := c.Setup(mgr, deps); err != nil {
			return nil, nil, fmt.Errorf("set up the %s controller: %w", c.Name, err)
		}
	}
	// Last, so that nothing after it can fail and leave its port open.
	if err := addWebServer(mgr, opts, logger); err != nil {
		return nil, nil, err
	}
	return mgr, events, nil
}

// Run builds the manager and runs it until ctx ends.
func Run(ctx context.Context, opts Options, available []Controller, logger logr.Logger) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	selected, err := Selected(opts, available)
	if err != nil {
		return err
	}
	if err := CheckGates(opts, selected); err != nil {
		return err
	}
	cfg, err := RESTConfig(opts)
	if err != nil {
		return err
	}
	mgr, events, err := build(cfg, opts, selected, logger)
	if err != nil {
		return err
	}
	logger.Info("starting", "controllers", names(selected), "watchAllNamespaces", opts.WatchAllNamespaces,
		"watchLabelSelector", opts.WatchLabelSelector, "leaderElection", opts.LeaderElection, "featureGates", opts.FeatureGates.String())
	err = mgr.Start(ctx)
	// The passes that ran on through the grace have recorded their events
	// (an upgrade that finished after SIGTERM): write them before the
	// process ends.
	events.drain(eventDrainBound)
	return err
}

// cacheOptions limit the shared cache to the runtime namespace unless every
// namespace is watched, and the controllers' own kinds to the shard selector.
func cacheOptions(opts Options, selected []Controller) (cache.Options, error) {
	var co cache.Options
	if !opts.WatchAllNamespaces {
		co.DefaultNamespaces = map[string]cache.Config{runtimeNamespace(opts): {}}
	}
	co.ByObject = map[client.Object]cache.ByObject{}
	for _, c := range selected {
		if c.Cache == nil {
			continue
		}
		by, err := c.Cache(opts)
		if err != nil {
			return co, err
		}
		for o, b := range by {
			co.ByObject[o] = b
		}
	}
	if opts.WatchLabelSelector == "" {
		return co, nil
	}
	sel, err := labels.Parse(opts.WatchLabelSelector)
	if err != nil {
		return co, fmt.Errorf("--watch-label-selector %q: %w", opts.WatchLabelSelector, err)
	}
	for _, c := range selected {
		for _, o := range c.Objects {
			co.ByObject[o] = cache.ByObject{Label: sel}
		}
	}
	return co, nil
}

// leaderElectionID is the lease name; shards with different selectors get
// different leases, so each shard elects its own leader.
func leaderElectionID(opts Options) string {
	if opts.WatchLabelSelector == "" {
		return opts.LeaderElectionID
	}
	sum := sha256.Sum256([]byte(opts.WatchLabelSelector))
	return fmt.Sprintf("%s-%x", opts.LeaderElectionID, sum[:4])
}

// RuntimeNamespace is the namespace the process runs in, the only one it
// watches under --watch-all-namespaces=false.
func RuntimeNamespace(opts Options) string { return runtimeNamespace(opts) }

func runtimeNamespace(opts Options) string {
	if opts.RuntimeNamespace != "" {
		return opts.RuntimeNamespace
	}
	if ns := os.Getenv("RUNTIME_NAMESPACE"); ns != "" {
		return ns
	}
	return "flux-system"
}
