// Package receiver runs Flux's Receivers: the controller that publishes a
// Receiver's webhook path, and the webhook server that checks each request
// and asks the objects it names to reconcile now.
package receiver

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Component is the name the Receiver's events carry, Flux's.
const Component = "notification-controller"

// Options are the Receiver's flags.
type Options struct {
	// Addr is where the webhook server listens (--receiver-addr); "0"
	// turns it off.
	Addr string
	// NoCrossNamespaceRefs refuses resources in another namespace than the
	// Receiver's. The manager's shared --no-cross-namespace-refs
	// (deps.Options.NoCrossNamespaceRefs) turns it on as well.
	NoCrossNamespaceRefs bool
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	var o Options
	o.BindFlags(pflag.NewFlagSet("receiver", pflag.ContinueOnError))
	return o
}

// BindFlags registers the Receiver's flags on fs: --receiver-addr.
// --no-cross-namespace-refs is the manager's, which Setup reads.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Addr, "receiver-addr", ":9292", `the address the webhook receiver listens on ("0" turns it off)`)
}

// limits are the server's bounds beyond Flux's.
type limits struct {
	// perSecond and burst bound the requests of one Receiver (429 beyond).
	perSecond float64
	burst     int
	// coalesce is the least time between two patches of one object.
	coalesce time.Duration
	// googleKeys is the JWKS of gcr tokens; "" means Google's.
	googleKeys string
}

func defaultLimits() limits { return limits{perSecond: 5, burst: 20, coalesce: time.Second} }

// Setup registers the Receiver kind and, unless o.Addr is "0", the
// webhook server, which runs on every replica.
func Setup(mgr ctrl.Manager, deps manager.Deps, o Options) error {
	return setup(mgr, deps, o, defaultLimits())
}

func setup(mgr ctrl.Manager, deps manager.Deps, o Options, l limits) error {
	o.NoCrossNamespaceRefs = o.NoCrossNamespaceRefs || deps.Options.NoCrossNamespaceRefs
	r := &Reconciler{Client: mgr.GetClient(), Secrets: mgr.GetAPIReader()}
	if err := reconcile.Start(context.Background(), mgr, r.Kind(), deps.Runtime(mgr, Component)); err != nil {
		return fmt.Errorf("receiver controller: %w", err)
	}
	if o.Addr == "0" {
		return nil
	}
	s, err := newServer(mgr, deps, o, l)
	if err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook-receiver", s.readyCheck); err != nil {
		return fmt.Errorf("webhook receiver readiness check: %w", err)
	}
	return mgr.Add(s)
}
