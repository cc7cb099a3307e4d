package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ReceiverKind is the kind name of Receiver objects.
const ReceiverKind string = "Receiver"

// ReceiverWebhookPathPrefix is the URL path prefix under which every
// Receiver's webhook is served.
const ReceiverWebhookPathPrefix string = "/hook/"

// Receiver types: they decide how an incoming request is authenticated and
// how its payload is read.
const (
	GenericReceiver     string = "generic"
	GenericHMACReceiver string = "generic-hmac"
	GenericOIDCReceiver string = "generic-oidc"
	GitHubReceiver      string = "github"
	GitLabReceiver      string = "gitlab"
	BitbucketReceiver   string = "bitbucket"
	HarborReceiver      string = "harbor"
	DockerHubReceiver   string = "dockerhub"
	QuayReceiver        string = "quay"
	GCRReceiver         string = "gcr"
	NexusReceiver       string = "nexus"
	ACRReceiver         string = "acr"
	CDEventsReceiver    string = "cdevents"
)

// DefaultOIDCAudience is the 'aud' claim a generic-oidc Receiver expects
// when an OIDC provider sets no audience.
const DefaultOIDCAudience string = "notification-controller"

// ReceiverSpec is the desired state of a Receiver.
// +kubebuilder:validation:XValidation:rule="self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",message="generic-oidc receivers must define at least one oidcProvider"
// +kubebuilder:validation:XValidation:rule="self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",message="oidcProviders can only be set when type is generic-oidc"
// +kubebuilder:validation:XValidation:rule="self.type != 'generic-oidc' || !has(self.secretRef)",message="secretRef cannot be set when type is generic-oidc"
// +kubebuilder:validation:XValidation:rule="self.type == 'generic-oidc' || has(self.secretRef)",message="secretRef is required when type is not generic-oidc"
type ReceiverSpec struct {
	// Type of the webhook sender; it selects how requests are authenticated
	// and how their payload is decoded.
	// +kubebuilder:validation:Enum=generic;generic-hmac;generic-oidc;github;gitlab;bitbucket;harbor;dockerhub;quay;gcr;nexus;acr;cdevents
	// +required
	Type string `json:"type"`

	// Interval at which the Receiver re-reads its Secret.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:default:="10m"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Events lists the event types to act on (for example 'push' for GitHub
	// or 'Push Hook' for GitLab), compared case-insensitively. Empty means
	// every event.
	// +optional
	Events []string `json:"events,omitempty"`

	// Resources lists the objects to reconcile when a valid request arrives.
	// +required
	Resources []ReceiverResource `json:"resources"`

	// ResourceFilter is a CEL expression, evaluated for every selected
	// object, that must return a boolean; the object is reconciled only when
	// it returns true. It can read the object's metadata as 'res', the
	// request body as 'req' and, for generic-oidc, the token claims as
	// 'claims'. An invalid expression stalls the Receiver.
	// +optional
	ResourceFilter string `json:"resourceFilter,omitempty"`

	// SecretRef names the Secret holding the 'token' used to authenticate
	// requests and to derive the webhook path. gcr Receivers also need the
	// 'email' and 'audience' keys. Required for every type except
	// generic-oidc, where it must not be set.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// OIDCProviders lists the token issuers a generic-oidc Receiver trusts.
	// A request's bearer token is checked against the provider whose
	// IssuerURL equals its 'iss' claim.
	// +listType=map
	// +listMapKey=issuerURL
	// +optional
	OIDCProviders []OIDCProvider `json:"oidcProviders,omitempty"`

	// Suspend stops the Receiver from handling requests while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ReceiverResource selects objects to reconcile, with an optional CEL filter
// of its own.
type ReceiverResource struct {
	CrossNamespaceObjectReference `json:",inline"`

	// Filter is a CEL expression, like spec.resourceFilter, that applies to
	// the objects of this entry only. An object is reconciled only when both
	// expressions (those that are set) return true.
	// +optional
	Filter string `json:"filter,omitempty"`
}

// OIDCProvider is an OIDC issuer whose ID tokens a generic-oidc Receiver
// accepts.
type OIDCProvider struct {
	// IssuerURL is the issuer's URL, used for discovery; it must equal the
	// 'iss' claim of its tokens.
	// +kubebuilder:validation:Pattern="^https?://"
	// +required
	IssuerURL string `json:"issuerURL"`

	// Audience is the 'aud' claim the tokens must carry; defaults to
	// 'notification-controller'.
	// +optional
	Audience string `json:"audience,omitempty"`

	// Variables are named CEL expressions, evaluated in order over 'claims'
	// and earlier variables, and exposed to validations as 'vars.<name>'.
	// +optional
	Variables []OIDCVariable `json:"variables,omitempty"`

	// Validations are CEL expressions over 'claims' and 'vars' that must all
	// return true for a request to be accepted. At least one is required: a
	// valid signature alone does not say who the caller is.
	// +kubebuilder:validation:MinItems=1
	// +required
	Validations []OIDCValidation `json:"validations"`
}

// GetAudience returns the expected 'aud' claim, DefaultOIDCAudience when unset.
func (in *OIDCProvider) GetAudience() string {
	if in.Audience == "" {
		return DefaultOIDCAudience
	}
	return in.Audience
}

// OIDCVariable is a named CEL expression over the token claims.
type OIDCVariable struct {
	// Name of the variable; it must be a valid CEL identifier.
	// +required
	Name string `json:"name"`

	// Expression computes the variable's value.
	// +required
	Expression string `json:"expression"`
}

// OIDCValidation is a CEL check over the token claims and variables.
type OIDCValidation struct {
	// Expression must return true for the request to be accepted.
	// +required
	Expression string `json:"expression"`

	// Message is returned to the caller when Expression returns false.
	// +required
	Message string `json:"message"`
}

// ReceiverStatus is the observed state of a Receiver.
type ReceiverStatus struct {
	meta.ReconcileRequestStatus `json:",inline"`

	// Conditions holds the conditions of the Receiver.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// WebhookPath is the path the webhook is served at:
	// '/hook/' followed by sha256(token+name+namespace) in hex.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	// ObservedGeneration is the last generation of the Receiver that the
	// controller handled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all;fluxcd;fluxcd-notifications
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// Receiver is an incoming webhook: a valid request makes the controller
// reconcile the objects the Receiver lists.
type Receiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ReceiverSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ReceiverStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the Receiver.
func (in *Receiver) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the conditions of the Receiver.
func (in *Receiver) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns spec.interval, 10 minutes when unset.
func (in *Receiver) GetRequeueAfter() time.Duration {
	if in.Spec.Interval == nil {
		return 10 * time.Minute
	}
	return in.Spec.Interval.Duration
}

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *Receiver) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *Receiver) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *Receiver) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *Receiver) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *Receiver) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// ReceiverList is a list of Receivers.
type ReceiverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Receiver `json:"items"`
}
