// Package provider turns a Provider, its Secrets and the Alert that sends
// through it into a ready notifier: the settings Flux reads (address,
// channel, username, timeout, secretRef, proxySecretRef, certSecretRef,
// commitStatusExpr), an HTTP client built from them, cached per
// Provider generation and Secret version. No error names a Secret's
// value: they name the field or the Secret key that is wrong.
package provider

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/engine/notifier"
)

// Resolver builds the notifier of an Alert's Provider. It is safe for
// concurrent use.
type Resolver struct {
	// Reader reads the Provider's Secrets (the manager's cached client).
	Reader client.Reader
	// New builds a notifier from settings; nil is notifier.New.
	New func(notifier.Settings) (notifier.Notifier, error)

	mu sync.Mutex
	// built holds the last notifier per Alert and Provider, with the
	// versions it was built from.
	built map[pair]builtNotifier
	// exprs holds the compiled commitStatusExpr per Provider generation.
	exprs map[types.UID]compiledExpr
}

type pair struct{ alert, provider types.UID }

type builtNotifier struct {
	key      string
	notifier notifier.Notifier
}

type compiledExpr struct {
	generation int64
	source     string
	expr       *statusExpr
}

// Notifier returns the notifier of provider p for alert, built anew only
// when the Provider's generation, the Alert's or a Secret's version
// changed.
func (r *Resolver) Notifier(ctx context.Context, alert *v1beta3.Alert, p *v1beta3.Provider) (notifier.Notifier, error) {
	if p.Spec.ServiceAccountName != "" {
		return nil, fmt.Errorf("Provider %s/%s: spec.serviceAccountName: workload identity is not supported yet; use spec.secretRef",
			p.Namespace, p.Name)
	}
	if alert == nil {
		alert = &v1beta3.Alert{}
	}
	secrets, err := r.secrets(ctx, p)
	if err != nil {
		return nil, err
	}
	key := cacheKey(alert, p, secrets)
	id := pair{alert: alert.UID, provider: p.UID}
	r.mu.Lock()
	b, ok := r.built[id]
	r.mu.Unlock()
	if ok && b.key == key {
		return b.notifier, nil
	}
	s, err := r.settings(alert, p, secrets)
	if err != nil {
		return nil, err
	}
	newNotifier := r.New
	if newNotifier == nil {
		newNotifier = notifier.New
	}
	n, err := newNotifier(s)
	if err != nil {
		return nil, fmt.Errorf("Provider %s/%s: %w", p.Namespace, p.Name, err)
	}
	r.mu.Lock()
	if r.built == nil {
		r.built = map[pair]builtNotifier{}
	}
	r.built[id] = builtNotifier{key: key, notifier: n}
	r.mu.Unlock()
	return n, nil
}

// Forget drops what is cached for a Provider that is gone.
func (r *Resolver) Forget(provider types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.built {
		if id.provider == provider {
			delete(r.built, id)
		}
	}
	delete(r.exprs, provider)
}

// providerSecrets are the Secrets a Provider references, nil when unset.
type providerSecrets struct {
	secret, proxy, cert *corev1.Secret
}

func (r *Resolver) secrets(ctx context.Context, p *v1beta3.Provider) (providerSecrets, error) {
	var out providerSecrets
	for _, ref := range []struct {
		field string
		ref   *meta.LocalObjectReference
		into  **corev1.Secret
	}{
		{"spec.secretRef", p.Spec.SecretRef, &out.secret},
		{"spec.proxySecretRef", p.Spec.ProxySecretRef, &out.proxy},
		{"spec.certSecretRef", p.Spec.CertSecretRef, &out.cert},
	} {
		if ref.ref == nil || ref.ref.Name == "" {
			continue
		}
		s := &corev1.Secret{}
		if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.ref.Name}, s); err != nil {
			if apierrors.IsNotFound(err) {
				return out, fmt.Errorf("Provider %s/%s: %s: Secret %s/%s not found; create it or fix the reference",
					p.Namespace, p.Name, ref.field, p.Namespace, ref.ref.Name)
			}
			return out, fmt.Errorf("Provider %s/%s: %s: read Secret %s/%s: %w", p.Namespace, p.Name, ref.field, p.Namespace, ref.ref.Name, err)
		}
		*ref.into = s
	}
	return out, nil
}

// cacheKey names what a notifier was built from.
func cacheKey(alert *v1beta3.Alert, p *v1beta3.Provider, s providerSecrets) string {
	version := func(sec *corev1.Secret) string {
		if sec == nil {
			return "-"
		}
		return string(sec.UID) + "@" + sec.ResourceVersion
	}
	return fmt.Sprintf("%s/%d|%s/%d|%s|%s|%s", p.UID, p.Generation, alert.UID, alert.Generation,
		version(s.secret), version(s.proxy), version(s.cert))
}
