package kinds

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// objects is a Getter over a fixed set of objects, by kind and name.
func objects(objs ...Object) Getter {
	return func(_ context.Context, key types.NamespacedName, into Object) error {
		for _, o := range objs {
			if o.GetName() != key.Name || o.GetNamespace() != key.Namespace {
				continue
			}
			switch dst := into.(type) {
			case *v1beta3.Provider:
				if p, ok := o.(*v1beta3.Provider); ok {
					*dst = *p
					return nil
				}
			case *corev1.Secret:
				if s, ok := o.(*corev1.Secret); ok {
					*dst = *s
					return nil
				}
			}
		}
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
}

func provider(mod func(*v1beta3.Provider)) *v1beta3.Provider {
	p := &v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: "slack", Namespace: "apps"},
		Spec: v1beta3.ProviderSpec{Type: "slack", Address: "https://hooks.example.com/x", SecretRef: &meta.LocalObjectReference{Name: "slack-token"}}}
	if mod != nil {
		mod(p)
	}
	return p
}

func secret(name string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps"}}
}

// TestDeriveProvider: a Provider reads as Ready only when every Secret it
// names exists and its address and expression are valid; each problem is
// named in the message.
func TestDeriveProvider(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       *v1beta3.Provider
		objs    []Object
		status  metav1.ConditionStatus
		message string
	}{
		{"ready", provider(nil), []Object{secret("slack-token")}, metav1.ConditionTrue, "Provider is Ready"},
		{"secret missing", provider(nil), nil, metav1.ConditionFalse, `Secret "slack-token" of spec.secretRef not found`},
		{"cert secret missing", provider(func(p *v1beta3.Provider) { p.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "ca"} }),
			[]Object{secret("slack-token")}, metav1.ConditionFalse, `Secret "ca" of spec.certSecretRef not found`},
		{"proxy secret missing", provider(func(p *v1beta3.Provider) { p.Spec.ProxySecretRef = &meta.LocalObjectReference{Name: "proxy"} }),
			[]Object{secret("slack-token")}, metav1.ConditionFalse, `Secret "proxy" of spec.proxySecretRef not found`},
		{"address not a URL", provider(func(p *v1beta3.Provider) { p.Spec.Address = "hooks.example.com/secret-path" }),
			[]Object{secret("slack-token")}, metav1.ConditionFalse, "spec.address: the address is not an absolute URL"},
		{"pubsub project is no URL", provider(func(p *v1beta3.Provider) { p.Spec.Type, p.Spec.Address = "googlepubsub", "my-project" }),
			[]Object{secret("slack-token")}, metav1.ConditionTrue, "Provider is Ready"},
		{"expression does not compile", provider(func(p *v1beta3.Provider) { p.Spec.CommitStatusExpr = "event.metadata[" }),
			[]Object{secret("slack-token")}, metav1.ConditionFalse, "spec.commitStatusExpr: CEL expression does not compile"},
		{"expression not a string", provider(func(p *v1beta3.Provider) { p.Spec.CommitStatusExpr = "1 + 2" }),
			[]Object{secret("slack-token")}, metav1.ConditionFalse, "not a string"},
		{"expression ok", provider(func(p *v1beta3.Provider) { p.Spec.CommitStatusExpr = "event.involvedObject.name + '/x'" }),
			[]Object{secret("slack-token")}, metav1.ConditionTrue, "Provider is Ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Provider().Derive(context.Background(), objects(tc.objs...), tc.p)
			if c.Type != meta.ReadyCondition || c.Status != tc.status || !strings.Contains(c.Message, tc.message) {
				t.Errorf("got %s=%s %q, want %s containing %q", c.Type, c.Status, c.Message, tc.status, tc.message)
			}
			if strings.Contains(c.Message, "secret-path") {
				t.Errorf("the message quotes the address: %q", c.Message)
			}
		})
	}
}

// TestDeriveAlert: an Alert is Ready only when its regexes compile and its
// Provider exists, is not suspended and is Ready.
func TestDeriveAlert(t *testing.T) {
	alert := func(mod func(*v1beta3.Alert)) *v1beta3.Alert {
		a := &v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "on-call", Namespace: "apps"},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "slack"}}}
		if mod != nil {
			mod(a)
		}
		return a
	}
	ready := []Object{provider(nil), secret("slack-token")}
	for _, tc := range []struct {
		name    string
		a       *v1beta3.Alert
		objs    []Object
		status  metav1.ConditionStatus
		message string
	}{
		{"ready", alert(nil), ready, metav1.ConditionTrue, `Alert is Ready: Provider "slack" is ready`},
		{"provider missing", alert(nil), nil, metav1.ConditionFalse, `Provider "slack" of spec.providerRef not found in namespace "apps"`},
		{"provider suspended", alert(nil), []Object{provider(func(p *v1beta3.Provider) { p.Spec.Suspend = true }), secret("slack-token")},
			metav1.ConditionFalse, `Provider "slack" is suspended`},
		{"provider's secret missing", alert(nil), []Object{provider(nil)}, metav1.ConditionFalse,
			`Provider "slack" is not ready: Secret "slack-token" of spec.secretRef not found`},
		{"inclusion regex", alert(func(a *v1beta3.Alert) { a.Spec.InclusionList = []string{".*ok.*", "(unclosed"} }), ready,
			metav1.ConditionFalse, `spec.inclusionList[1] "(unclosed" does not compile`},
		{"exclusion regex", alert(func(a *v1beta3.Alert) { a.Spec.ExclusionList = []string{"[z-a]"} }), ready,
			metav1.ConditionFalse, `spec.exclusionList[0] "[z-a]" does not compile`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Alert().Derive(context.Background(), objects(tc.objs...), tc.a)
			if c.Status != tc.status || !strings.Contains(c.Message, tc.message) {
				t.Errorf("got %s %q, want %s containing %q", c.Status, c.Message, tc.status, tc.message)
			}
		})
	}
}

// TestDeriveReadFailure: a Provider that cannot be read (no permission)
// is Unknown, never Ready.
func TestDeriveReadFailure(t *testing.T) {
	forbidden := func(context.Context, types.NamespacedName, Object) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "providers"}, "slack", nil)
	}
	a := &v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "apps"}, Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "slack"}}}
	if c := Alert().Derive(context.Background(), forbidden, a); c.Status != metav1.ConditionUnknown || !strings.Contains(c.Message, "cannot read Provider") {
		t.Errorf("got %s %q", c.Status, c.Message)
	}
}
