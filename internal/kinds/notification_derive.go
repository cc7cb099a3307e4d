package kinds

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// Reasons of a derived Ready condition that is not True.
const (
	// ProviderNotFoundReason: the Alert's providerRef names no Provider.
	ProviderNotFoundReason = "ProviderNotFound"
	// ProviderNotReadyReason: the Alert's Provider is suspended or not ready.
	ProviderNotReadyReason = "ProviderNotReady"
	// SecretNotFoundReason: a Secret the Provider names does not exist.
	SecretNotFoundReason = "SecretNotFound"
	// InvalidRegexReason: an inclusion or exclusion regex does not compile.
	InvalidRegexReason = "InvalidRegex"
	// UnsupportedReason: a setting Driftless does not build yet.
	UnsupportedReason = "Unsupported"
	// ReadFailedReason: what the object refers to could not be read (the
	// status is then Unknown).
	ReadFailedReason = "ReadFailed"
)

// Bounds of a commitStatusExpr, as the notification controller's.
const (
	maxStatusExprLength = 4096
	maxProviderAddress  = 2048
)

// addressNotURL are the Provider types whose address is not a URL (a
// Google Cloud project, an Event Hub connection string).
var addressNotURL = []string{v1beta3.GooglePubSubProvider, v1beta3.AzureEventHubProvider}

func readyCond(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: meta.ReadyCondition, Status: status, Reason: reason, Message: message}
}

// deriveProvider is a Provider's Ready: every Secret it names exists, its
// address is a URL (for the types that send to one), its commitStatusExpr
// compiles, and it asks for nothing Driftless does not build.
func deriveProvider(ctx context.Context, get Getter, p *v1beta3.Provider) metav1.Condition {
	if cond, ok := providerSpecProblem(p); ok {
		return cond
	}
	refs := []struct {
		field string
		ref   *meta.LocalObjectReference
	}{{"spec.secretRef", p.Spec.SecretRef}, {"spec.certSecretRef", p.Spec.CertSecretRef}, {"spec.proxySecretRef", p.Spec.ProxySecretRef}}
	for _, r := range refs {
		if r.ref == nil || r.ref.Name == "" {
			continue
		}
		key := types.NamespacedName{Namespace: p.Namespace, Name: r.ref.Name}
		err := get(ctx, key, &corev1.Secret{})
		switch {
		case apierrors.IsNotFound(err):
			return readyCond(metav1.ConditionFalse, SecretNotFoundReason,
				fmt.Sprintf("Secret %q of %s not found in namespace %q", r.ref.Name, r.field, p.Namespace))
		case err != nil:
			return readyCond(metav1.ConditionUnknown, ReadFailedReason,
				fmt.Sprintf("cannot read Secret %q of %s: %v", r.ref.Name, r.field, err))
		}
	}
	return readyCond(metav1.ConditionTrue, meta.SucceededReason, "Provider is Ready: its Secrets exist and its settings are valid")
}

// providerSpecProblem is the Ready=False of a Provider whose spec alone is
// wrong, and false when the spec is fine.
func providerSpecProblem(p *v1beta3.Provider) (metav1.Condition, bool) {
	if err := CheckProviderAddress(p.Spec.Type, p.Spec.Address); err != nil {
		return readyCond(metav1.ConditionFalse, meta.InvalidURLReason, "spec.address: "+err.Error()), true
	}
	if p.Spec.CommitStatusExpr != "" {
		if err := CompileCommitStatusExpr(p.Spec.CommitStatusExpr); err != nil {
			return readyCond(metav1.ConditionFalse, meta.InvalidCELExpressionReason, "spec.commitStatusExpr: "+err.Error()), true
		}
	}
	if p.Spec.ServiceAccountName != "" {
		return readyCond(metav1.ConditionFalse, UnsupportedReason,
			"spec.serviceAccountName: workload identity is not supported yet in Driftless"), true
	}
	return metav1.Condition{}, false
}

// CheckProviderAddress refuses an address that is too long or, for the
// types that send to a URL, not an absolute URL with a host. The value is
// not quoted: the address of a webhook is often a credential.
func CheckProviderAddress(typ, address string) error {
	if len(address) > maxProviderAddress {
		return fmt.Errorf("the address is longer than %d bytes", maxProviderAddress)
	}
	if address == "" || slices.Contains(addressNotURL, typ) {
		return nil
	}
	u, err := url.Parse(address)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("the address is not an absolute URL with a host (such as https://hooks.example.com/...)")
	}
	return nil
}

// CompileCommitStatusExpr compiles a Provider's commitStatusExpr as the
// notification controller does (variables event, provider and alert; the
// strings, lists, encoders and math extensions; optional types) and
// refuses one whose result is known not to be a string.
func CompileCommitStatusExpr(src string) error {
	if len(src) > maxStatusExprLength {
		return fmt.Errorf("the expression is longer than %d bytes", maxStatusExprLength)
	}
	env, err := cel.NewEnv(
		cel.Variable("event", cel.DynType),
		cel.Variable("provider", cel.DynType),
		cel.Variable("alert", cel.DynType),
		ext.Strings(), ext.Lists(), ext.Encoders(), ext.Math(),
		cel.OptionalTypes(),
	)
	if err != nil {
		return fmt.Errorf("set up CEL: %w", err)
	}
	ast, issues := env.Compile(src)
	if issues != nil && issues.Err() != nil {
		return fmt.Errorf("CEL expression does not compile: %s", issues.Err())
	}
	if t := ast.OutputType(); t != cel.StringType && t != cel.DynType {
		return fmt.Errorf("CEL expression returns %s, not a string", t)
	}
	return nil
}

// CheckRegexps returns the first of exprs that does not compile as Go's
// regexp, naming it as field[i].
func CheckRegexps(field string, exprs []string) error {
	for i, e := range exprs {
		if _, err := regexp.Compile(e); err != nil {
			return fmt.Errorf("%s[%d] %q does not compile: %v", field, i, e, err)
		}
	}
	return nil
}

// deriveAlert is an Alert's Ready: its regexes compile and its Provider
// exists, is not suspended and is Ready itself.
func deriveAlert(ctx context.Context, get Getter, a *v1beta3.Alert) metav1.Condition {
	for _, l := range []struct {
		field string
		exprs []string
	}{{"spec.inclusionList", a.Spec.InclusionList}, {"spec.exclusionList", a.Spec.ExclusionList}} {
		if err := CheckRegexps(l.field, l.exprs); err != nil {
			return readyCond(metav1.ConditionFalse, InvalidRegexReason, err.Error())
		}
	}
	name := a.Spec.ProviderRef.Name
	p := &v1beta3.Provider{}
	err := get(ctx, types.NamespacedName{Namespace: a.Namespace, Name: name}, p)
	switch {
	case apierrors.IsNotFound(err):
		return readyCond(metav1.ConditionFalse, ProviderNotFoundReason,
			fmt.Sprintf("Provider %q of spec.providerRef not found in namespace %q", name, a.Namespace))
	case err != nil:
		return readyCond(metav1.ConditionUnknown, ReadFailedReason, fmt.Sprintf("cannot read Provider %q: %v", name, err))
	case p.Spec.Suspend:
		return readyCond(metav1.ConditionFalse, ProviderNotReadyReason,
			fmt.Sprintf("Provider %q is suspended: nothing is sent until it is resumed", name))
	}
	pc := deriveProvider(ctx, get, p)
	if pc.Status != metav1.ConditionTrue {
		return readyCond(pc.Status, ProviderNotReadyReason, fmt.Sprintf("Provider %q is not ready: %s", name, pc.Message))
	}
	return readyCond(metav1.ConditionTrue, meta.SucceededReason, fmt.Sprintf("Alert is Ready: Provider %q is ready", name))
}
