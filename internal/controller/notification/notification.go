// Package notification wires the "notification" controller group of
// driftless-controller, Flux's notification-controller: the dispatcher
// that takes every event (from this process's controllers and from the
// ingestion endpoint) to the Providers its Alerts select, and the
// Receivers with their webhook server.
package notification

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/internal/controller/notification/dispatch"
	"github.com/driftless/driftless/internal/controller/notification/ingest"
	"github.com/driftless/driftless/internal/controller/notification/provider"
	"github.com/driftless/driftless/internal/controller/notification/receiver"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Component is the name the group's events carry, Flux's.
const Component = "notification-controller"

// Options are the flags of the notification controller.
type Options struct {
	// Ingest is --events-listen-addr: the endpoint other processes (and
	// Flux's controllers) post events to.
	Ingest ingest.Options
	// Receiver is --receiver-addr: the webhook server.
	Receiver receiver.Options
	// RateLimitInterval is --rate-limit-interval: one event per object,
	// message and revision in that time.
	RateLimitInterval time.Duration
}

// BindFlags registers the notification controller's flags on fs, Flux's
// names and defaults but for --events-listen-addr: in one process the
// artifact server holds Flux's :9090.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	o.Ingest.BindFlags(fs)
	o.Receiver.BindFlags(fs)
	fs.DurationVar(&o.RateLimitInterval, "rate-limit-interval", 5*time.Minute, "the least time between two notifications of the same event (object, message, revision)")
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	var o Options
	o.BindFlags(pflag.NewFlagSet("notification", pflag.ContinueOnError))
	return o
}

// ObjectLevelWorkloadIdentity is Flux's gate for a Provider's
// serviceAccountName; Driftless does not build cloud identity.
var ObjectLevelWorkloadIdentity = features.Gate{Name: "ObjectLevelWorkloadIdentity",
	Unsupported: "Driftless does not build cloud workload identity"}

// Gates are the feature gates the notification group knows. Flux's
// CacheSecretsAndConfigMaps and DisableConfigWatchers belong to the
// groups that act on them (helm, kustomize).
var Gates = []features.Gate{ObjectLevelWorkloadIdentity}

// Controller is the notification controller as the manager selects it.
func Controller() manager.Controller { return New(DefaultOptions()) }

// New is the notification controller with the given options.
func New(o Options) manager.Controller {
	g := &group{opts: o}
	return manager.Controller{
		Name: "notification",
		// Alerts and Providers are static: read from the cache as events
		// come, never reconciled.
		Objects: []client.Object{&notificationv1.Receiver{}},
		Flags:   g.opts.BindFlags,
		Gates:   Gates,
		Setup:   g.setup,
	}
}

type group struct{ opts Options }

// setup starts, on every replica, the dispatcher, the ingestion endpoint
// and the webhook server, hands the dispatcher this process's events, and
// registers the Receiver kind (leader only, as every kind).
func (g *group) setup(mgr ctrl.Manager, deps manager.Deps) error {
	if err := dispatch.IndexFields(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("index Alerts: %w", err)
	}
	// Provider Secrets are read from the API server: the shared cache
	// holds only the labelled ones (--watch-configs-label-selector), and a
	// cache of every Secret would hold every tenant's credentials.
	resolver := &provider.Resolver{Reader: mgr.GetAPIReader()}
	d, err := dispatch.New(dispatch.Config{
		Reader:               mgr.GetCache(),
		Notifier:             resolver.Notifier,
		Events:               deps.Runtime(mgr, Component).Events,
		RateLimitInterval:    g.opts.RateLimitInterval,
		NoCrossNamespaceRefs: deps.Options.NoCrossNamespaceRefs,
		Registerer:           crmetrics.Registry,
		Logger:               deps.Logger.WithName("dispatch"),
	})
	if err != nil {
		return fmt.Errorf("notification dispatcher: %w", err)
	}
	if err := mgr.Add(d); err != nil {
		return err
	}
	if deps.Relay != nil {
		deps.Relay.SetTarget(reconcile.RateLimitedAs(d, dispatch.ErrRateLimited))
	}
	if g.opts.Ingest.Enabled() {
		metrics, err := ingest.NewMetrics(crmetrics.Registry)
		if err != nil {
			return fmt.Errorf("event endpoint metrics: %w", err)
		}
		h := &ingest.Handler{Submitter: d, Log: deps.Logger.WithName("events"), Metrics: metrics}
		if err := mgr.Add(ingest.NewServer(g.opts.Ingest, h, deps.Logger.WithName("events"))); err != nil {
			return err
		}
	}
	return receiver.Setup(mgr, deps, g.opts.Receiver)
}
