package helmkube

import (
	"context"

	"helm.sh/helm/v4/pkg/kube"

	"github.com/driftless/driftless/api/meta"
)

// Client is Helm's kube client for one action configuration, with the
// waiter replaced: for kube.StatusWatcherStrategy (Flux's poller) and
// kube.HookOnlyStrategy it waits with the Target's health Checker, on watch
// events; kube.LegacyStrategy keeps Helm's own waiter.
type Client struct {
	*kube.Client
	target *Target
	ctx    context.Context
	checks []meta.CustomHealthCheck
}

var (
	_ kube.Interface            = (*Client)(nil)
	_ kube.InterfaceWaitOptions = (*Client)(nil)
)

// WaitStrategy is the Helm strategy of a HelmRelease's waitStrategy name:
// "poller" (and empty, the default) is kube.StatusWatcherStrategy, which
// this package's waiter serves; "legacy" is Helm's own waiter.
func WaitStrategy(name string) kube.WaitStrategy {
	if name == "legacy" {
		return kube.LegacyStrategy
	}
	return kube.StatusWatcherStrategy
}

// GetWaiter returns the waiter of strategy ws.
func (c *Client) GetWaiter(ws kube.WaitStrategy) (kube.Waiter, error) {
	return c.GetWaiterWithOptions(ws)
}

// GetWaiterWithOptions returns the waiter of strategy ws. Helm's wait
// options are kept only for the legacy strategy: the others take their
// context from the configuration's ActionOptions.Context.
func (c *Client) GetWaiterWithOptions(ws kube.WaitStrategy, opts ...kube.WaitOption) (kube.Waiter, error) {
	switch ws {
	case kube.StatusWatcherStrategy:
		return c.waiter(false), nil
	case kube.HookOnlyStrategy:
		return c.waiter(true), nil
	default:
		return c.Client.GetWaiterWithOptions(ws, opts...)
	}
}

func (c *Client) waiter(hooksOnly bool) *Waiter {
	return &Waiter{
		checker:   c.target.checker,
		mapper:    c.target.mapper,
		dynamic:   c.target.watcher,
		ctx:       c.ctx,
		checks:    c.checks,
		hooksOnly: hooksOnly,
	}
}
