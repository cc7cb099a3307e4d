package manager

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	groupnames "github.com/driftless/driftless/internal/controller/names"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/reconcile"
)

// ControllerNames are the controllers --controllers can select, named as
// Flux names its controller processes (groupnames.All, the list flux install
// reads too).
var ControllerNames = groupnames.All

// Options are the flags of driftless-controller. Defaults follow Flux.
type Options struct {
	Kubeconfig         string
	Controllers        []string
	Concurrent         int
	KubeAPIQPS         float32
	KubeAPIBurst       int
	WatchAllNamespaces bool
	WatchLabelSelector string
	RuntimeNamespace   string

	LeaderElection       bool
	LeaderElectionID     string
	LeaseDuration        time.Duration
	RenewDeadline        time.Duration
	LeaderRetryPeriod    time.Duration
	HealthAddr           string
	MetricsAddr          string
	EnablePprof          bool // Go's profiles under /debug/pprof/ on MetricsAddr
	LogEncoding          string
	LogLevel             string
	GracefulShutdownTime time.Duration

	Retry reconcile.RetryOptions

	// NoCrossNamespaceRefs refuses references to objects in other namespaces.
	NoCrossNamespaceRefs bool
	// DefaultServiceAccount is impersonated by appliers without serviceAccountName.
	DefaultServiceAccount string
	// RequeueDependency is how soon an object waiting for a dependency looks
	// again should the watch miss the change.
	RequeueDependency time.Duration

	// WatchConfigsLabelSelector selects the ConfigMaps and Secrets whose
	// changes reconcile the objects that read them (a Kustomization's
	// substituteFrom, a HelmRelease's valuesFrom). Shared by two groups,
	// so it is one flag of the process; "" is the default selector.
	WatchConfigsLabelSelector string

	// EventsAddr is where the controllers post their Flux events when the
	// notification controller runs in another process (Flux's
	// --events-addr); "" posts nowhere. Ignored when this process runs the
	// notification group: its dispatcher takes them directly.
	EventsAddr string

	// Storage is shared by two groups: the source group stores and serves
	// artifacts, the kustomize group downloads them from the advertised
	// address, up to the same size. A group's own flags live in its package
	// (Controller.Flags).
	Storage StorageOptions

	// FeatureGates is --feature-gates: the gates set explicitly. Each
	// group declares the gates it knows (Controller.Gates) with Flux's
	// defaults and reads its own through Enabled.
	FeatureGates features.Values

	// Web configures the web UI the process serves on every replica.
	Web WebOptions

	// SeveralManagersPerProcess lets more than one manager run in one
	// process (tests of sharding do), which controller-runtime otherwise
	// refuses because their controllers share metric names. Not a flag.
	SeveralManagersPerProcess bool
}

// StorageOptions configure where source artifacts live and are served.
type StorageOptions struct {
	Path             string
	Addr             string
	AdvAddr          string
	RetentionTTL     time.Duration
	RetentionRecords int
	DigestAlgo       string
	// MaxSize bounds the content of one artifact in bytes; 0 means no limit.
	MaxSize int64
	// MaxFiles bounds the files of one artifact (a Bucket's objects before
	// any download, every source's archive); 0 means no limit.
	MaxFiles int
}

// WebOptions are the --web-* flags: where and how the process serves the
// web UI (internal/web). It runs on every replica, leader or not.
type WebOptions struct {
	// Addr is where the UI listens; "" serves no UI.
	Addr string
	// TLSCert and TLSKey are PEM files; both or neither (plain HTTP).
	TLSCert, TLSKey string
	// Hosts are the Host names the UI answers to (against DNS
	// rebinding); empty means DefaultWebHosts of the runtime namespace.
	Hosts []string
	// MaxStreams bounds the live-update streams served at once.
	MaxStreams int
	// AnonymousUser lets visitors who have not logged in read as user
	// driftless:web:anonymous (group driftless:web:viewers).
	AnonymousUser bool
	// ActionTimeout is how long a page waits for the controller to handle
	// a reconcile request made from it before saying nothing did.
	ActionTimeout time.Duration
	// AuthProxyCA is the PEM CA bundle of an authenticating proxy in front
	// of the UI: on connections whose client certificate it signed, the
	// X-Remote-User and X-Remote-Group headers name the visitor, whom
	// actions impersonate. "" trusts no proxy. Needs TLS.
	AuthProxyCA string
	// AuthProxyAllowedNames, when set, are the common names the proxy's
	// client certificate may have (kube-apiserver's
	// --requestheader-allowed-names).
	AuthProxyAllowedNames []string
}

// WebServiceName is the Service flux install puts in front of the UI.
const WebServiceName = "driftless-web"

// DefaultWebHosts are the names users reach the UI by when --web-hosts is
// not set: the Service's names in namespace ns, and the loopback names a
// port-forward uses.
func DefaultWebHosts(ns string) []string {
	return []string{WebServiceName, WebServiceName + "." + ns, WebServiceName + "." + ns + ".svc",
		WebServiceName + "." + ns + ".svc.cluster.local", "localhost", "127.0.0.1"}
}

// BindFlags registers every flag on fs with its default.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	retry := reconcile.DefaultRetryOptions()
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to reconcile; empty means in-cluster or $KUBECONFIG")
	fs.StringSliceVar(&o.Controllers, "controllers", nil, "controllers to run (default all that exist): "+strings.Join(ControllerNames, ","))
	fs.IntVar(&o.Concurrent, "concurrent", 4, "objects of one kind reconciled at once")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", 50, "queries per second to the Kubernetes API")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", 300, "burst of queries to the Kubernetes API")
	fs.BoolVar(&o.WatchAllNamespaces, "watch-all-namespaces", true, "watch every namespace; false watches only the runtime namespace")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", "", "reconcile only objects matching this label selector (sharding)")
	fs.StringVar(&o.RuntimeNamespace, "runtime-namespace", "", "namespace the controller runs in (default $RUNTIME_NAMESPACE, else flux-system)")

	fs.BoolVar(&o.LeaderElection, "enable-leader-election", false, "elect a leader so that only one replica reconciles")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", "driftless-controller-leader-election", "name of the leader election lease")
	fs.DurationVar(&o.LeaseDuration, "leader-election-lease-duration", 35*time.Second, "how long a leader's lease lasts")
	fs.DurationVar(&o.RenewDeadline, "leader-election-renew-deadline", 30*time.Second, "how long the leader tries to renew before giving up")
	fs.DurationVar(&o.LeaderRetryPeriod, "leader-election-retry-period", 5*time.Second, "how often candidates try to acquire the lease")
	fs.StringVar(&o.HealthAddr, "health-addr", ":9440", "address of /healthz and /readyz")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", ":8080", "address of /metrics; 0 disables it")
	fs.BoolVar(&o.EnablePprof, "enable-pprof", false, "also serve Go's profiles under /debug/pprof/ on the metrics address")
	fs.StringVar(&o.LogEncoding, "log-encoding", "json", "log format: json or console")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info or error")
	fs.DurationVar(&o.GracefulShutdownTime, "graceful-shutdown-timeout", 10*time.Minute, "how long running reconciliations may finish on shutdown; Helm actions run on until it ends, the other controllers' passes stop at once; negative waits for ever")

	fs.DurationVar(&o.Retry.MinRetryDelay, "min-retry-delay", retry.MinRetryDelay, "first back-off after a failed reconciliation")
	fs.DurationVar(&o.Retry.MaxRetryDelay, "max-retry-delay", retry.MaxRetryDelay, "longest back-off after failed reconciliations")
	fs.IntVar(&o.Retry.JitterPercent, "interval-jitter-percentage", retry.JitterPercent, "spread of interval requeues, in percent")

	fs.BoolVar(&o.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "refuse references to sources and dependencies in other namespaces (multi-tenancy lockdown)")
	fs.StringVar(&o.DefaultServiceAccount, "default-service-account", "", "service account appliers impersonate when spec.serviceAccountName is empty")
	fs.DurationVar(&o.RequeueDependency, "requeue-dependency", 30*time.Second, "how soon an object waiting for a dependency looks again, should the watch miss the change")

	fs.StringVar(&o.WatchConfigsLabelSelector, "watch-configs-label-selector", DefaultWatchConfigsLabelSelector, "ConfigMaps and Secrets matching this selector reconcile the Kustomizations and HelmReleases that read them when they change")

	fs.StringVar(&o.EventsAddr, "events-addr", "", "URL of the notification controller to post events to, when it runs in another process (http://notification-controller.flux-system.svc.cluster.local./); empty posts nowhere")

	fs.Var(&o.FeatureGates, "feature-gates", "feature gates to set, Name=true|false separated by commas; a gate the selected controllers do not know is refused")

	fs.StringVar(&o.Web.Addr, "web-addr", "", "address the web UI listens on, on every replica whether leader or not (:9080); empty serves no UI")
	fs.StringVar(&o.Web.TLSCert, "web-tls-cert", "", "PEM certificate the web UI serves TLS (1.2 or later) with; needs --web-tls-key")
	fs.StringVar(&o.Web.TLSKey, "web-tls-key", "", "PEM private key of --web-tls-cert")
	fs.StringSliceVar(&o.Web.Hosts, "web-hosts", nil, "host names (without port) the web UI answers to, others get 403 (default: the driftless-web Service's names in the runtime namespace, localhost and 127.0.0.1)")
	fs.IntVar(&o.Web.MaxStreams, "web-max-streams", 200, "live-update streams the web UI serves at once; past that it answers 503 with Retry-After")
	fs.DurationVar(&o.Web.ActionTimeout, "web-action-timeout", 2*time.Minute, "how long a web UI page waits for the controller to handle a reconcile request made from it before it says that nothing did")
	fs.StringVar(&o.Web.AuthProxyCA, "web-auth-proxy-ca", "", "PEM CA bundle of an authenticating proxy in front of the web UI: requests on connections with a client certificate it signed are the user and groups in X-Remote-User and X-Remote-Group, and act by impersonation (the controller needs impersonate on users and groups); needs --web-tls-cert")
	fs.StringSliceVar(&o.Web.AuthProxyAllowedNames, "web-auth-proxy-allowed-names", nil, "common names the authenticating proxy's client certificate may have; empty allows any certificate --web-auth-proxy-ca signed")
	fs.BoolVar(&o.Web.AnonymousUser, "web-anonymous-user", false, "let visitors who have not logged in read the web UI as user driftless:web:anonymous, group driftless:web:viewers (bind a role to it); they never act")

	fs.StringVar(&o.Storage.Path, "storage-path", "/data", "directory where source artifacts are stored")
	fs.StringVar(&o.Storage.Addr, "storage-addr", ":9090", "address the artifact server listens on")
	fs.StringVar(&o.Storage.AdvAddr, "storage-adv-addr", "", "address advertised in artifact URLs (default: the hostname and the storage port)")
	fs.DurationVar(&o.Storage.RetentionTTL, "artifact-retention-ttl", time.Minute, "how long superseded artifacts are kept")
	fs.IntVar(&o.Storage.RetentionRecords, "artifact-retention-records", 2, "how many artifacts per object are kept")
	fs.StringVar(&o.Storage.DigestAlgo, "artifact-digest-algo", "sha256", "digest algorithm of artifacts: sha256, sha384 or sha512")
	fs.IntVar(&o.Storage.MaxFiles, "artifact-max-files", 100000, "most files one artifact may hold: a Bucket with more objects is refused before any download, and every source's archive stops there; 0 means no limit")
	fs.Int64Var(&o.Storage.MaxSize, "artifact-max-size", 1<<30, "largest content of one artifact in bytes, archived by the source side and unpacked by the applier, so a huge repository cannot fill a volume; 0 means no limit")
}

// Validate checks the flags that can be wrong on their own.
func (o Options) Validate() error {
	for _, c := range o.Controllers {
		if !slices.Contains(ControllerNames, c) {
			return fmt.Errorf("unknown controller %q in --controllers; known: %s", c, strings.Join(ControllerNames, ", "))
		}
	}
	switch o.LogEncoding {
	case "json", "console":
	default:
		return fmt.Errorf("--log-encoding must be json or console, not %q", o.LogEncoding)
	}
	switch o.LogLevel {
	case "debug", "info", "error", "trace":
	default:
		return fmt.Errorf("--log-level must be debug, info or error, not %q", o.LogLevel)
	}
	if o.WatchLabelSelector != "" {
		if _, err := labels.Parse(o.WatchLabelSelector); err != nil {
			return fmt.Errorf("--watch-label-selector %q: %w", o.WatchLabelSelector, err)
		}
	}
	if _, err := o.WatchConfigsSelector(); err != nil {
		return err
	}
	if o.EventsAddr != "" {
		if err := checkEventsAddr(o.EventsAddr); err != nil {
			return err
		}
	}
	if err := o.Web.validate(); err != nil {
		return err
	}
	if o.Concurrent < 1 {
		return fmt.Errorf("--concurrent must be at least 1, not %d", o.Concurrent)
	}
	return nil
}

// validate checks the --web-* flags that can be wrong on their own.
func (w WebOptions) validate() error {
	if (w.TLSCert == "") != (w.TLSKey == "") {
		return fmt.Errorf("--web-tls-cert and --web-tls-key go together: set both or neither")
	}
	if w.AuthProxyCA != "" && w.TLSCert == "" {
		return fmt.Errorf("--web-auth-proxy-ca needs --web-tls-cert and --web-tls-key: the proxy proves itself with a client certificate, which only TLS carries")
	}
	if len(w.AuthProxyAllowedNames) > 0 && w.AuthProxyCA == "" {
		return fmt.Errorf("--web-auth-proxy-allowed-names needs --web-auth-proxy-ca")
	}
	if w.Addr == "" {
		return nil
	}
	if w.MaxStreams < 1 {
		return fmt.Errorf("--web-max-streams must be at least 1, not %d", w.MaxStreams)
	}
	if w.ActionTimeout <= 0 {
		return fmt.Errorf("--web-action-timeout must be positive, not %s", w.ActionTimeout)
	}
	return nil
}
