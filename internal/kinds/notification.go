package kinds

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// Alert is the entry of notification.toolkit.fluxcd.io/v1beta3 Alert:
// `flux <verb> alert`, `flux get alerts`. An Alert is static (no
// controller writes its status, as in Flux): its Ready is derived from its
// Provider and its regexes, and `flux reconcile` has no command for it.
func Alert() Kind {
	return Kind{
		GroupVersionKind: v1beta3.GroupVersion.WithKind(v1beta3.AlertKind),
		Resource:         "alerts",
		Command:          Command{Name: "alert", Plural: "alerts", Noun: "Alert", Nouns: "Alerts"},
		New:              func() Object { return &v1beta3.Alert{} },
		NewList:          func() List { return &v1beta3.AlertList{} },
		Items:            func(l List) []Object { return pointers(l.(*v1beta3.AlertList).Items) },
		SetSuspend:       func(o Object, s bool) { o.(*v1beta3.Alert).Spec.Suspend = s },
		Suspended:        func(o Object) bool { return o.(*v1beta3.Alert).Spec.Suspend },
		Derive: func(ctx context.Context, get Getter, o Object) metav1.Condition {
			return deriveAlert(ctx, get, o.(*v1beta3.Alert))
		},
		NotReconciled: true,
		Wide: []Column{
			{"PROVIDER", func(o Object) string { return o.(*v1beta3.Alert).Spec.ProviderRef.Name }},
			{"SEVERITY", func(o Object) string { return alertSeverity(o.(*v1beta3.Alert)) }},
			{"SOURCES", func(o Object) string { return strings.Join(EventSourceStrings(o.(*v1beta3.Alert)), ",") }},
		},
		Sections: func(o Object, _ Age) []Section { return alertSections(o.(*v1beta3.Alert)) },
		Summary: func(o Object) []Pair {
			a := o.(*v1beta3.Alert)
			return []Pair{{"Provider", a.Spec.ProviderRef.Name}, {"Severity", alertSeverity(a)}}
		},
	}
}

// Provider is the entry of notification.toolkit.fluxcd.io/v1beta3
// Provider: `flux <verb> alert-provider`, `flux get alert-providers`, as
// Flux names it. Static like an Alert: its Ready is derived from its
// Secrets and settings.
func Provider() Kind {
	return Kind{
		GroupVersionKind: v1beta3.GroupVersion.WithKind(v1beta3.ProviderKind),
		Resource:         "providers",
		Command:          Command{Name: "alert-provider", Plural: "alert-providers", Noun: "Provider", Nouns: "Providers"},
		New:              func() Object { return &v1beta3.Provider{} },
		NewList:          func() List { return &v1beta3.ProviderList{} },
		Items:            func(l List) []Object { return pointers(l.(*v1beta3.ProviderList).Items) },
		SetSuspend:       func(o Object, s bool) { o.(*v1beta3.Provider).Spec.Suspend = s },
		Suspended:        func(o Object) bool { return o.(*v1beta3.Provider).Spec.Suspend },
		Derive: func(ctx context.Context, get Getter, o Object) metav1.Condition {
			return deriveProvider(ctx, get, o.(*v1beta3.Provider))
		},
		NotReconciled: true,
		Wide: []Column{
			{"TYPE", func(o Object) string { return o.(*v1beta3.Provider).Spec.Type }},
			{"CHANNEL", func(o Object) string { return o.(*v1beta3.Provider).Spec.Channel }},
			{"ADDRESS", func(o Object) string { return o.(*v1beta3.Provider).Spec.Address }},
		},
		Sections: func(o Object, _ Age) []Section { return providerSections(o.(*v1beta3.Provider)) },
		Summary: func(o Object) []Pair {
			p := o.(*v1beta3.Provider)
			return []Pair{{"Type", p.Spec.Type}, {"Channel", p.Spec.Channel}}
		},
		// As `export alert-provider --with-credentials`: the Secret with the
		// address, token or headers.
		SecretRef: func(o Object) string { return localName(o.(*v1beta3.Provider).Spec.SecretRef) },
	}
}

// Receiver is the entry of notification.toolkit.fluxcd.io/v1 Receiver:
// `flux <verb> receiver`, `flux get receivers`. Its controller writes a
// real status: Ready and the webhook path.
func Receiver() Kind {
	return Kind{
		GroupVersionKind: notificationv1.GroupVersion.WithKind(notificationv1.ReceiverKind),
		Resource:         "receivers",
		Command:          Command{Name: "receiver", Plural: "receivers", Noun: "Receiver", Nouns: "Receivers"},
		New:              func() Object { return &notificationv1.Receiver{} },
		NewList:          func() List { return &notificationv1.ReceiverList{} },
		Items:            func(l List) []Object { return pointers(l.(*notificationv1.ReceiverList).Items) },
		SetSuspend:       func(o Object, s bool) { o.(*notificationv1.Receiver).Spec.Suspend = s },
		Wide: []Column{
			{"TYPE", func(o Object) string { return o.(*notificationv1.Receiver).Spec.Type }},
			{"WEBHOOK PATH", func(o Object) string { return o.(*notificationv1.Receiver).Status.WebhookPath }},
		},
		Sections: func(o Object, age Age) []Section { return receiverSections(o.(*notificationv1.Receiver), age) },
		Summary: func(o Object) []Pair {
			r := o.(*notificationv1.Receiver)
			return []Pair{{"Type", r.Spec.Type}, {"Webhook Path", r.Status.WebhookPath}}
		},
		SecretRef: func(o Object) string { return localName(o.(*notificationv1.Receiver).Spec.SecretRef) },
		Examples: map[string]string{"reconcile": `  # Read the token of the Receiver github-receiver again and print its webhook path
  flux reconcile receiver github-receiver`},
	}
}

// alertSeverity is spec.eventSeverity with its default, info.
func alertSeverity(a *v1beta3.Alert) string {
	if a.Spec.EventSeverity == "" {
		return v1beta3.EventSeverityInfo
	}
	return a.Spec.EventSeverity
}

// EventSourceStrings writes an Alert's eventSources as `flux create alert
// --event-source` reads them: Kind/name, Kind/namespace/name for another
// namespace, name `*` for every object of the kind.
func EventSourceStrings(a *v1beta3.Alert) []string {
	out := make([]string, 0, len(a.Spec.EventSources))
	for _, s := range a.Spec.EventSources {
		out = append(out, crossNamespaceString(s, a.Namespace))
	}
	return out
}

func crossNamespaceString(s notificationv1.CrossNamespaceObjectReference, ns string) string {
	str := s.Kind + "/" + s.Name
	if s.Namespace != "" && s.Namespace != ns {
		str = s.Kind + "/" + s.Namespace + "/" + s.Name
	}
	if len(s.MatchLabels) > 0 {
		str += " (" + mapString(s.MatchLabels) + ")"
	}
	return str
}

func alertSections(a *v1beta3.Alert) []Section {
	s := a.Spec
	return []Section{{Title: "Spec", Pairs: []Pair{
		{"Provider", s.ProviderRef.Name},
		{"Event Severity", alertSeverity(a)},
		{"Event Sources", strings.Join(EventSourceStrings(a), ", ")},
		{"Inclusion List", strings.Join(s.InclusionList, ", ")},
		{"Exclusion List", strings.Join(s.ExclusionList, ", ")},
		{"Event Metadata", mapString(s.EventMetadata)},
		{"Summary", s.Summary},
		{"Suspend", strconv.FormatBool(s.Suspend)},
	}}}
}

func providerSections(p *v1beta3.Provider) []Section {
	s := p.Spec
	return []Section{{Title: "Spec", Pairs: []Pair{
		{"Type", s.Type},
		{"Channel", s.Channel},
		{"Username", s.Username},
		{"Address", s.Address},
		{"Timeout", p.GetTimeout().String()},
		{"Secret", localName(s.SecretRef)},
		{"Cert Secret", localName(s.CertSecretRef)},
		{"Proxy Secret", localName(s.ProxySecretRef)},
		{"Service Account", s.ServiceAccountName},
		{"Commit Status Expression", s.CommitStatusExpr},
		{"Suspend", strconv.FormatBool(s.Suspend)},
	}}}
}

func receiverSections(r *notificationv1.Receiver, age Age) []Section {
	s := r.Spec
	resources := make([]string, 0, len(s.Resources))
	for _, res := range s.Resources {
		resources = append(resources, crossNamespaceString(res.CrossNamespaceObjectReference, r.Namespace))
	}
	events := append([]string(nil), s.Events...)
	sort.Strings(events)
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Type", s.Type},
			{"Events", strings.Join(events, ", ")},
			{"Resources", strings.Join(resources, ", ")},
			{"Resource Filter", s.ResourceFilter},
			{"Secret", localName(s.SecretRef)},
			{"Interval", r.GetRequeueAfter().String()},
			{"Suspend", strconv.FormatBool(s.Suspend)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Webhook Path", r.Status.WebhookPath},
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", r.Status.ObservedGeneration, r.Generation)},
			{"Last Handled Reconcile", r.Status.LastHandledReconcileAt},
		}},
		conditions(r, age),
	}
}
