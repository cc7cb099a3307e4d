package v1beta3

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ProviderKind is the kind name of Provider objects.
const ProviderKind string = "Provider"

// Provider types that send alerts to a chat, incident or event system.
const (
	GenericProvider        string = "generic"
	GenericHMACProvider    string = "generic-hmac"
	SlackProvider          string = "slack"
	DiscordProvider        string = "discord"
	MSTeamsProvider        string = "msteams"
	RocketProvider         string = "rocket"
	GoogleChatProvider     string = "googlechat"
	GooglePubSubProvider   string = "googlepubsub"
	WebexProvider          string = "webex"
	SentryProvider         string = "sentry"
	AzureEventHubProvider  string = "azureeventhub"
	TelegramProvider       string = "telegram"
	LarkProvider           string = "lark"
	MatrixProvider         string = "matrix"
	OpsgenieProvider       string = "opsgenie"
	AlertManagerProvider   string = "alertmanager"
	GrafanaProvider        string = "grafana"
	GitHubDispatchProvider string = "githubdispatch"
	PagerDutyProvider      string = "pagerduty"
	DataDogProvider        string = "datadog"
	NATSProvider           string = "nats"
	ZulipProvider          string = "zulip"
	OTELProvider           string = "otel"
	ZoomProvider           string = "zoom"
	IncidentIOProvider     string = "incident.io"
)

// Provider types that set commit statuses on the Git host.
const (
	GitHubProvider          string = "github"
	GitLabProvider          string = "gitlab"
	GiteaProvider           string = "gitea"
	BitbucketProvider       string = "bitbucket"
	BitbucketServerProvider string = "bitbucketserver"
	AzureDevOpsProvider     string = "azuredevops"
)

// Provider types that comment on pull or merge requests. They act only on
// objects annotated with event.toolkit.fluxcd.io/change_request.
const (
	GitHubPullRequestCommentProvider  string = "githubpullrequestcomment"
	GitLabMergeRequestCommentProvider string = "gitlabmergerequestcomment"
	GiteaPullRequestCommentProvider   string = "giteapullrequestcomment"
)

// ProviderSpec says where and how notifications are sent.
// +kubebuilder:validation:XValidation:rule="self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)",message="spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types"
type ProviderSpec struct {
	// Type selects the notification service and how events are encoded
	// for it.
	// +kubebuilder:validation:Enum=slack;discord;msteams;rocket;generic;generic-hmac;github;gitlab;gitea;giteapullrequestcomment;bitbucketserver;bitbucket;azuredevops;googlechat;googlepubsub;webex;sentry;azureeventhub;telegram;lark;matrix;opsgenie;alertmanager;grafana;githubdispatch;githubpullrequestcomment;gitlabmergerequestcomment;pagerduty;datadog;nats;zulip;otel;zoom;incident.io
	// +required
	Type string `json:"type"`

	// Interval is accepted for compatibility and not used.
	// Deprecated: Providers are not reconciled periodically.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Channel is the destination channel, room or topic of the messages.
	// +kubebuilder:validation:MaxLength:=2048
	// +optional
	Channel string `json:"channel,omitempty"`

	// Username is the name the messages are posted under.
	// +kubebuilder:validation:MaxLength:=2048
	// +optional
	Username string `json:"username,omitempty"`

	// Address is the endpoint notifications are sent to; its meaning depends
	// on Type (a webhook URL, a Git repository URL, a project ID...). The
	// Secret's 'address' key overrides it.
	// +kubebuilder:validation:MaxLength:=2048
	// +optional
	Address string `json:"address,omitempty"`

	// Timeout for sending a notification; 15 seconds when unset.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Proxy is the HTTP/S address of a proxy server.
	// Deprecated: use ProxySecretRef instead.
	// +kubebuilder:validation:Pattern="^(http|https)://.*$"
	// +kubebuilder:validation:MaxLength:=2048
	// +optional
	Proxy string `json:"proxy,omitempty"`

	// ProxySecretRef names a Secret with the proxy 'address' and optional
	// 'username' and 'password'.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// SecretRef names a Secret with the credentials of the service: keys
	// such as 'address', 'token', 'username', 'password' and 'headers',
	// depending on Type.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName is a ServiceAccount whose workload identity is used
	// to authenticate to the cloud service (azureeventhub, azuredevops,
	// googlepubsub). It cannot be combined with static credentials in
	// SecretRef, and needs the ObjectLevelWorkloadIdentity feature gate.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret with TLS material: 'ca.crt' to trust the
	// server, 'tls.crt' and 'tls.key' for client authentication.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// Suspend stops notifications through this Provider while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// CommitStatusExpr is a CEL expression, over 'event', 'provider' and
	// 'alert', that returns the commit status key to use. Only commit status
	// types (github, gitlab, gitea, bitbucketserver, bitbucket, azuredevops)
	// accept it.
	// +optional
	CommitStatusExpr string `json:"commitStatusExpr,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories=all;fluxcd;fluxcd-notifications
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// Provider is a destination for notifications: a chat, an incident or event
// system, or a Git host. It is a static object: it has no status.
type Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ProviderSpec `json:"spec,omitempty"`
}

// GetTimeout returns spec.timeout, 15 seconds when unset.
func (in *Provider) GetTimeout() time.Duration {
	if in.Spec.Timeout == nil {
		return 15 * time.Second
	}
	return in.Spec.Timeout.Duration
}

// +kubebuilder:object:root=true

// ProviderList is a list of Providers.
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Provider `json:"items"`
}
