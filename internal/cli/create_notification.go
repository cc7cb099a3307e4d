package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/kinds"
)

// eventSourceKinds are the kinds an Alert's eventSources and a Receiver's
// resources may name (the CRDs' enum).
var eventSourceKinds = []string{"Bucket", "GitRepository", "Kustomization", "HelmRelease", "HelmChart", "HelmRepository",
	"ImageRepository", "ImagePolicy", "ImageUpdateAutomation", "OCIRepository", "ArtifactGenerator", "ExternalArtifact"}

// providerTypes are the Provider types of the CRD's enum.
var providerTypes = []string{"slack", "discord", "msteams", "rocket", "generic", "generic-hmac", "github", "gitlab", "gitea",
	"giteapullrequestcomment", "bitbucketserver", "bitbucket", "azuredevops", "googlechat", "googlepubsub", "webex", "sentry",
	"azureeventhub", "telegram", "lark", "matrix", "opsgenie", "alertmanager", "grafana", "githubdispatch",
	"githubpullrequestcomment", "gitlabmergerequestcomment", "pagerduty", "datadog", "nats", "zulip", "otel", "zoom", "incident.io"}

// receiverTypes are the Receiver types of the CRD's enum.
var receiverTypes = []string{"generic", "generic-hmac", "generic-oidc", "github", "gitlab", "bitbucket", "harbor",
	"dockerhub", "quay", "gcr", "nexus", "acr", "cdevents"}

// staticMeta is the metadata of an object created without an interval (an
// Alert, a Provider): name, namespace and --label labels.
func (c *createOptions) staticMeta(name, ns string) (metav1.ObjectMeta, error) {
	labels, err := parseLabels(c.labels)
	if err != nil {
		return metav1.ObjectMeta{}, err
	}
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, nil
}

// checkRefName refuses a Secret or Provider name the API server would.
func checkRefName(flag, name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("invalid %s %q: %s", flag, name, strings.Join(errs, "; "))
	}
	return nil
}

// oneOf is v when it is one of allowed, compared case-insensitively, in
// allowed's spelling; an error naming flag and the allowed values otherwise.
func oneOf(flag, v string, allowed []string) (string, error) {
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return a, nil
		}
	}
	return "", fmt.Errorf("invalid %s %q: must be one of %s", flag, v, strings.Join(allowed, ", "))
}

// parseObjectRef reads an --event-source or --resource: <kind>/<name>,
// <kind>/<name>.<namespace> (Flux's spelling) or <kind>/<namespace>/<name>;
// the name may be * for every object of the kind.
func parseObjectRef(flag, s string) (notificationv1.CrossNamespaceObjectReference, error) {
	var ref notificationv1.CrossNamespaceObjectReference
	bad := func(why string) error {
		return fmt.Errorf("invalid %s %q: %s; write it as <kind>/<name>, <kind>/<name>.<namespace> or <kind>/<namespace>/<name> (name * for all)", flag, s, why)
	}
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 2:
		ref.Name = parts[1]
		if ref.Name != "*" {
			ref.Name, ref.Namespace, _ = strings.Cut(parts[1], ".")
		}
	case 3:
		ref.Namespace, ref.Name = parts[1], parts[2]
	default:
		return ref, bad("no kind")
	}
	kind, err := oneOf(flag+" kind", parts[0], eventSourceKinds)
	if err != nil {
		return ref, err
	}
	ref.Kind = kind
	if ref.Name == "" {
		return ref, bad("no name")
	}
	if ref.Name != "*" {
		if errs := validation.IsDNS1123Subdomain(ref.Name); len(errs) > 0 {
			return ref, bad(strings.Join(errs, "; "))
		}
	}
	if ref.Namespace != "" {
		if errs := validation.IsDNS1123Label(ref.Namespace); len(errs) > 0 {
			return ref, bad("namespace: " + strings.Join(errs, "; "))
		}
	}
	return ref, nil
}

type createProviderOptions struct {
	typ, channel, username, address, secretRef string
}

func newCreateProviderCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createProviderOptions{}
	cmd := newCreateKindCommand(f, common, kinds.Provider(), &cobra.Command{
		Short: "Create or update a Provider resource",
		Long:  "The create alert-provider command generates a Provider resource: where Alerts send their notifications.",
		Example: `  # A Slack Provider, its webhook address in the Secret webhook-url (key address)
  flux create alert-provider slack --type=slack --channel=general --secret-ref=webhook-url

  # A generic webhook, printed rather than applied
  flux create alert-provider hook --type=generic --address=https://hooks.example.com/flux --export`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common)
	})
	fl := cmd.Flags()
	fl.StringVar(&o.typ, "type", "", "type of provider: "+strings.Join(providerTypes, ", "))
	fl.StringVar(&o.channel, "channel", "", "channel to send messages to in the case of a chat provider")
	fl.StringVar(&o.username, "username", "", "bot username used by the provider")
	fl.StringVar(&o.address, "address", "", "path to either the git repository, chat provider or webhook")
	fl.StringVar(&o.secretRef, "secret-ref", "", "name of secret containing authentication token")
	return cmd
}

func (o *createProviderOptions) build(name, ns string, common *createOptions) (*v1beta3.Provider, error) {
	if o.typ == "" {
		return nil, fmt.Errorf("provider type is required: add --type (one of %s)", strings.Join(providerTypes, ", "))
	}
	typ, err := oneOf("--type", o.typ, providerTypes)
	if err != nil {
		return nil, err
	}
	objMeta, err := common.staticMeta(name, ns)
	if err != nil {
		return nil, err
	}
	p := &v1beta3.Provider{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta3.GroupVersion.String(), Kind: v1beta3.ProviderKind},
		ObjectMeta: objMeta,
		Spec:       v1beta3.ProviderSpec{Type: typ, Channel: o.channel, Username: o.username, Address: o.address},
	}
	if o.secretRef != "" {
		if err := checkRefName("--secret-ref", o.secretRef); err != nil {
			return nil, err
		}
		p.Spec.SecretRef = &meta.LocalObjectReference{Name: o.secretRef}
	}
	// The same check the Provider's readiness makes: refused now rather
	// than created broken. The address is not quoted: it may be a token.
	if err := kinds.CheckProviderAddress(typ, o.address); err != nil {
		return nil, fmt.Errorf("invalid --address: %w", err)
	}
	return p, nil
}

type createAlertOptions struct {
	providerRef, severity        string
	sources                      []string
	inclusionList, exclusionList []string
}

func newCreateAlertCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createAlertOptions{}
	cmd := newCreateKindCommand(f, common, kinds.Alert(), &cobra.Command{
		Short: "Create or update an Alert resource",
		Long:  "The create alert command generates an Alert resource: which events go to a Provider.",
		Example: `  # Errors of every Kustomization and of the GitRepository flux-system, to the Provider slack
  flux create alert errors --provider-ref=slack --event-severity=error \
    --event-source='Kustomization/*' --event-source=GitRepository/flux-system

  # Info events of a HelmRelease in another namespace that mention a reconciliation
  flux create alert apps --provider-ref=slack --event-source=HelmRelease/podinfo.apps \
    --inclusion-list='.*reconciliation.*' --export`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common)
	})
	fl := cmd.Flags()
	fl.StringVar(&o.providerRef, "provider-ref", "", "reference to provider")
	fl.StringVar(&o.severity, "event-severity", "", "severity of events to send alerts for: info or error")
	fl.StringSliceVar(&o.sources, "event-source", nil,
		"sources that should generate alerts (<kind>/<name>, <kind>/<name>.<namespace> or <kind>/<namespace>/<name>; name * for all)")
	fl.StringArrayVar(&o.inclusionList, "inclusion-list", nil, "send only events whose message matches one of these Go regular expressions (repeatable)")
	fl.StringArrayVar(&o.exclusionList, "exclusion-list", nil, "drop events whose message matches one of these Go regular expressions (repeatable)")
	return cmd
}

func (o *createAlertOptions) build(name, ns string, common *createOptions) (*v1beta3.Alert, error) {
	if o.providerRef == "" {
		return nil, fmt.Errorf("provider ref is required: add --provider-ref=<Provider name>")
	}
	if err := checkRefName("--provider-ref", o.providerRef); err != nil {
		return nil, err
	}
	if len(o.sources) == 0 {
		return nil, fmt.Errorf("at least one event source is required: add --event-source=<kind>/<name>")
	}
	severity := o.severity
	if severity != "" {
		var err error
		if severity, err = oneOf("--event-severity", severity, []string{v1beta3.EventSeverityInfo, v1beta3.EventSeverityError}); err != nil {
			return nil, err
		}
	}
	objMeta, err := common.staticMeta(name, ns)
	if err != nil {
		return nil, err
	}
	a := &v1beta3.Alert{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta3.GroupVersion.String(), Kind: v1beta3.AlertKind},
		ObjectMeta: objMeta,
		Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: o.providerRef}, EventSeverity: severity,
			InclusionList: o.inclusionList, ExclusionList: o.exclusionList},
	}
	for _, s := range o.sources {
		ref, err := parseObjectRef("--event-source", s)
		if err != nil {
			return nil, err
		}
		a.Spec.EventSources = append(a.Spec.EventSources, ref)
	}
	if err := kinds.CheckRegexps("--inclusion-list", o.inclusionList); err != nil {
		return nil, err
	}
	if err := kinds.CheckRegexps("--exclusion-list", o.exclusionList); err != nil {
		return nil, err
	}
	return a, nil
}

type createReceiverOptions struct {
	typ, secretRef    string
	events, resources []string
}

func newCreateReceiverCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createReceiverOptions{}
	var cmd *cobra.Command
	cmd = newCreateKindCommandThen(f, common, kinds.Receiver(), &cobra.Command{
		Short: "Create or update a Receiver resource",
		Long: "The create receiver command generates a Receiver resource, waits until it is ready and prints its\n" +
			"webhook path: a request to it, checked with the Secret's token, reconciles the resources now.",
		Example: `  # GitHub push events reconcile the GitRepository webapp
  flux create receiver github-receiver --type=github --event=ping --event=push \
    --secret-ref=webhook-token --resource=GitRepository/webapp`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common, cmd.Flags().Changed("interval"))
	}, func(got kinds.Object) {
		if r, ok := got.(*notificationv1.Receiver); ok && r.Status.WebhookPath != "" {
			progress{f.Err}.success("generated webhook URL %s", r.Status.WebhookPath)
		}
	})
	fl := cmd.Flags()
	fl.StringVar(&o.typ, "type", "", "type of receiver: "+strings.Join(receiverTypes, ", "))
	fl.StringVar(&o.secretRef, "secret-ref", "", "name of the Secret whose key token the webhook requests are checked with")
	fl.StringSliceVar(&o.events, "event", nil, "event types the receiver accepts (for example push, ping); all when none")
	fl.StringSliceVar(&o.resources, "resource", nil,
		"resources to reconcile on a request (<kind>/<name>, <kind>/<name>.<namespace> or <kind>/<namespace>/<name>)")
	return cmd
}

func (o *createReceiverOptions) build(name, ns string, common *createOptions, withInterval bool) (*notificationv1.Receiver, error) {
	if o.typ == "" {
		return nil, fmt.Errorf("receiver type is required: add --type (one of %s)", strings.Join(receiverTypes, ", "))
	}
	typ, err := oneOf("--type", o.typ, receiverTypes)
	if err != nil {
		return nil, err
	}
	if typ == notificationv1.GenericOIDCReceiver {
		return nil, fmt.Errorf("--type generic-oidc needs spec.oidcProviders, which the command line does not set: write the Receiver as YAML")
	}
	if o.secretRef == "" {
		return nil, fmt.Errorf("secret ref is required: add --secret-ref=<Secret with key token> (flux create secret receiver makes one)")
	}
	if err := checkRefName("--secret-ref", o.secretRef); err != nil {
		return nil, err
	}
	if len(o.resources) == 0 {
		return nil, fmt.Errorf("at least one resource is required: add --resource=<kind>/<name>")
	}
	objMeta, err := common.staticMeta(name, ns)
	if err != nil {
		return nil, err
	}
	r := &notificationv1.Receiver{
		TypeMeta:   metav1.TypeMeta{APIVersion: notificationv1.GroupVersion.String(), Kind: notificationv1.ReceiverKind},
		ObjectMeta: objMeta,
		Spec: notificationv1.ReceiverSpec{Type: typ, Events: o.events,
			SecretRef: &meta.LocalObjectReference{Name: o.secretRef}},
	}
	if withInterval {
		if common.interval <= 0 {
			return nil, fmt.Errorf("--interval must be positive, got %s", common.interval)
		}
		r.Spec.Interval = &metav1.Duration{Duration: common.interval}
	}
	for _, s := range o.resources {
		ref, err := parseObjectRef("--resource", s)
		if err != nil {
			return nil, err
		}
		if ref.Name == "*" {
			// The controller stalls on it: * needs matchLabels, which the
			// command line does not set.
			return nil, fmt.Errorf("invalid --resource %q: name * needs matchLabels, which the command line does not set: write the Receiver as YAML", s)
		}
		if k, ok := kinds.ByKind(ref.Kind); ok {
			ref.APIVersion = k.GroupVersion().String()
		}
		r.Spec.Resources = append(r.Spec.Resources, notificationv1.ReceiverResource{CrossNamespaceObjectReference: ref})
	}
	return r, nil
}
