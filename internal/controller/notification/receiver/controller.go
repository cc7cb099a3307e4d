package receiver

import (
	"context"
	"crypto/sha256"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/internal/engine/webhook"
	"github.com/driftless/driftless/internal/reconcile"
)

// Field indexes of Receivers.
const (
	// pathIndex finds a Receiver by status.webhookPath.
	pathIndex = "status.webhookPath"
	// secretIndex finds the Receivers that read a Secret.
	secretIndex = "spec.secretRef.name"
)

// Reconciler publishes each Receiver's webhook path.
type Reconciler struct {
	Client client.Client
	// Secrets reads Secrets from the API server: the cache holds none.
	Secrets client.Reader
}

// state is what the steps of one pass share: nothing yet.
type state struct{}

// Kind declares the Receiver reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*notificationv1.Receiver, state] {
	return reconcile.Kind[*notificationv1.Receiver, state]{
		Name: notificationv1.ReceiverKind,
		New:  func() *notificationv1.Receiver { return &notificationv1.Receiver{} },
		Plan: []reconcile.Step[*notificationv1.Receiver, state]{
			{Name: "validate", Run: validate},
			{Name: "path", Run: r.publishPath},
		},
		Succeeded: func(obj *notificationv1.Receiver) (string, string) {
			return meta.SucceededReason, "Receiver initialised for path: " + obj.Status.WebhookPath
		},
		Indexes: []reconcile.Index[*notificationv1.Receiver]{
			{Field: pathIndex, Keys: func(o *notificationv1.Receiver) []string {
				if o.Status.WebhookPath == "" {
					return nil
				}
				return []string{o.Status.WebhookPath}
			}},
			{Field: secretIndex, Keys: func(o *notificationv1.Receiver) []string {
				if o.Spec.SecretRef == nil {
					return nil
				}
				return []string{o.Spec.SecretRef.Name}
			}},
		},
		// The token Secret is watched by its metadata alone (no Secret
		// value enters the cache): a rotated token moves the path at once.
		Watches: []reconcile.Watch{{
			Object:     secretMetadata(),
			Map:        r.readers,
			Predicates: []predicate.Predicate{predicate.ResourceVersionChangedPredicate{}},
		}},
	}
}

func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// readers lists the Receivers that read secret.
func (r *Reconciler) readers(ctx context.Context, secret client.Object) []ctrl.Request {
	return reconcile.Indexed(ctx, r.Client, &notificationv1.ReceiverList{},
		client.InNamespace(secret.GetNamespace()), client.MatchingFields{secretIndex: secret.GetName()})
}

// validate refuses what no request could satisfy: a CEL expression that
// does not compile, a kind Flux does not reconcile, a type not built.
func validate(_ context.Context, obj *notificationv1.Receiver, _ *reconcile.Pass, _ *state) error {
	if _, err := compileFilters(obj); err != nil {
		return reconcile.Stalling(meta.InvalidCELExpressionReason, "%s", err)
	}
	if _, err := compileProviders(obj); err != nil {
		return reconcile.Stalling(meta.InvalidCELExpressionReason, "%s", err)
	}
	for i, res := range obj.Spec.Resources {
		if _, ok := fluxVersion(res.Kind); !ok {
			return reconcile.Stalling(notificationv1.ValidationFailedReason,
				"spec.resources[%d].kind '%s' is not a Flux kind", i, res.Kind)
		}
		if res.Name == "*" && len(res.MatchLabels) == 0 {
			return reconcile.Stalling(notificationv1.ValidationFailedReason,
				"spec.resources[%d]: name '*' needs matchLabels", i)
		}
	}
	return nil
}

// filters are a Receiver's compiled CEL expressions.
type filters struct {
	top      *webhook.Filter
	resource []*webhook.Filter
}

// compileFilters compiles spec.resourceFilter and each resource's filter;
// the error names the field and quotes CEL's message.
func compileFilters(obj *notificationv1.Receiver) (*filters, error) {
	f := &filters{resource: make([]*webhook.Filter, len(obj.Spec.Resources))}
	if obj.Spec.ResourceFilter != "" {
		top, err := webhook.CompileFilter(obj.Spec.ResourceFilter)
		if err != nil {
			return nil, fmt.Errorf("invalid CEL expression in spec.resourceFilter '%s': %w", obj.Spec.ResourceFilter, err)
		}
		f.top = top
	}
	for i, res := range obj.Spec.Resources {
		if res.Filter == "" {
			continue
		}
		rf, err := webhook.CompileFilter(res.Filter)
		if err != nil {
			return nil, fmt.Errorf("invalid CEL expression in spec.resources[%d].filter '%s': %w", i, res.Filter, err)
		}
		f.resource[i] = rf
	}
	return f, nil
}

// publishPath reads the token and records the webhook path derived from
// it; a generic-oidc Receiver has no token, and its path hashes its name
// and namespace alone.
func (r *Reconciler) publishPath(ctx context.Context, obj *notificationv1.Receiver, _ *reconcile.Pass, _ *state) error {
	sec, err := readSecret(ctx, r.Secrets, obj)
	if err != nil {
		return err
	}
	obj.Status.WebhookPath = webhookPath(string(sec.token), obj)
	return nil
}

// secretData is what a Receiver reads of its Secret.
type secretData struct {
	token []byte
	gcr   webhook.GCR
}

// readSecret returns the 'token' of the Receiver's Secret (and for gcr its
// 'email' and 'audience'); a missing Secret or key is a TokenNotFound
// failure that names them. generic-oidc reads none.
func readSecret(ctx context.Context, c client.Reader, obj *notificationv1.Receiver) (secretData, error) {
	if obj.Spec.Type == notificationv1.GenericOIDCReceiver {
		return secretData{}, nil
	}
	if obj.Spec.SecretRef == nil {
		return secretData{}, reconcile.Stalling(notificationv1.ValidationFailedReason, "spec.secretRef is required for receiver type '%s'", obj.Spec.Type)
	}
	key := client.ObjectKey{Namespace: obj.Namespace, Name: obj.Spec.SecretRef.Name}
	var s corev1.Secret
	if err := c.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return secretData{}, reconcile.Failed(notificationv1.TokenNotFoundReason, "token Secret '%s' not found: create it with a 'token' key", key)
		}
		return secretData{}, reconcile.Failed(notificationv1.TokenNotFoundReason, "read token Secret '%s': %w", key, err)
	}
	d := secretData{token: s.Data["token"], gcr: webhook.GCR{Email: string(s.Data["email"]), Audience: string(s.Data["audience"])}}
	if len(d.token) == 0 {
		return secretData{}, reconcile.Failed(notificationv1.TokenNotFoundReason, "Secret '%s' has no 'token' key", key)
	}
	if obj.Spec.Type == notificationv1.GCRReceiver && (d.gcr.Email == "" || d.gcr.Audience == "") {
		return secretData{}, reconcile.Failed(notificationv1.ValidationFailedReason, "Secret '%s' of a gcr receiver needs the 'email' and 'audience' keys", key)
	}
	return d, nil
}

// compileProviders compiles a generic-oidc Receiver's oidcProviders.
func compileProviders(obj *notificationv1.Receiver) ([]*webhook.OIDCProvider, error) {
	var out []*webhook.OIDCProvider
	for i, p := range obj.Spec.OIDCProviders {
		vars := make([]webhook.OIDCVariable, len(p.Variables))
		for j, v := range p.Variables {
			vars[j] = webhook.OIDCVariable{Name: v.Name, Expression: v.Expression}
		}
		rules := make([]webhook.OIDCValidation, len(p.Validations))
		for j, v := range p.Validations {
			rules[j] = webhook.OIDCValidation{Expression: v.Expression, Message: v.Message}
		}
		cp, err := webhook.CompileOIDCProvider(p.IssuerURL, p.GetAudience(), vars, rules)
		if err != nil {
			return nil, fmt.Errorf("invalid CEL expression in spec.oidcProviders[%d] (%s): %w", i, p.IssuerURL, err)
		}
		out = append(out, cp)
	}
	return out, nil
}

// webhookPath is Flux's: /hook/ and the hex SHA-256 of token, name and
// namespace.
func webhookPath(token string, obj *notificationv1.Receiver) string {
	sum := sha256.Sum256([]byte(token + obj.Name + obj.Namespace))
	return fmt.Sprintf("%s%x", notificationv1.ReceiverWebhookPathPrefix, sum)
}
