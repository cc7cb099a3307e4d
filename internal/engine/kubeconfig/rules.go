// Package kubeconfig turns a kubeconfig a tenant handed over in a Secret
// (spec.kubeConfig.secretRef of a Kustomization or a HelmRelease) into the
// REST config of a remote cluster, under one set of rules for every
// controller: inline data only, no impersonation fields, exec plugins and
// skipped TLS verification only when the controller's flags allow them, and
// a client timeout.
package kubeconfig

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ClientTimeout bounds every request to a remote cluster, so that a
// kubeconfig pointing at a server that accepts and never answers cannot hold
// a worker: discovery takes no context, only the client's timeout stops it.
const ClientTimeout = 30 * time.Second

// Policy is what the controller's flags allow in a tenant's kubeconfig.
type Policy struct {
	// AllowExec allows exec credential plugins (--insecure-kubeconfig-exec).
	AllowExec bool
	// AllowInsecureTLS allows clusters that skip TLS verification (--insecure-kubeconfig-tls).
	AllowInsecureTLS bool
}

// RESTConfig builds the REST config of a kubeconfig a tenant handed over in
// a Secret. The kubeconfig is the tenant's, but the process reading it is
// the controller: every field that names a file would be read from the
// controller's filesystem (its own ServiceAccount token, say, sent to a
// server the tenant chose), and every impersonation field would let the
// tenant pick an identity. Both are refused; only inline data is used.
func RESTConfig(data []byte, policy Policy) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, err
	}
	if err := check(raw, policy); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, err
	}
	// Belt and braces: nothing below may come from a file or switch identity,
	// whatever clientcmd filled in.
	cfg.BearerTokenFile = ""
	cfg.CertFile, cfg.KeyFile, cfg.CAFile = "", "", ""
	cfg.Impersonate = rest.ImpersonationConfig{}
	if cfg.Timeout == 0 {
		cfg.Timeout = ClientTimeout
	}
	return cfg, nil
}

// check refuses the fields that read the controller's files, run its
// programs or switch identity, naming the first one found.
func check(raw *clientcmdapi.Config, policy Policy) error {
	for _, name := range slices.Sorted(maps.Keys(raw.AuthInfos)) {
		auth := raw.AuthInfos[name]
		for _, f := range []struct {
			set   bool
			field string
			fix   string
		}{
			{auth.TokenFile != "", "tokenFile", "put the token itself in 'token'"},
			{auth.ClientCertificate != "", "client-certificate", "put the certificate itself in 'client-certificate-data'"},
			{auth.ClientKey != "", "client-key", "put the key itself in 'client-key-data'"},
			{auth.Impersonate != "", "as", "remove it; spec.serviceAccountName sets the identity"},
			{auth.ImpersonateUID != "", "as-uid", "remove it; spec.serviceAccountName sets the identity"},
			{len(auth.ImpersonateGroups) > 0, "as-groups", "remove it; spec.serviceAccountName sets the identity"},
			{len(auth.ImpersonateUserExtra) > 0, "as-user-extra", "remove it; spec.serviceAccountName sets the identity"},
		} {
			if f.set {
				return fmt.Errorf("user '%s' sets '%s', which the controller refuses (it names a file on the controller or switches identity); %s", name, f.field, f.fix)
			}
		}
		if auth.Exec != nil && !policy.AllowExec {
			return fmt.Errorf("user '%s' runs an exec plugin, which the controller refuses unless started with --insecure-kubeconfig-exec", name)
		}
		if auth.AuthProvider != nil {
			return fmt.Errorf("user '%s' uses an auth provider plugin, which is not supported", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(raw.Clusters)) {
		cluster := raw.Clusters[name]
		if cluster.CertificateAuthority != "" {
			return fmt.Errorf("cluster '%s' sets 'certificate-authority', a file on the controller, which the controller refuses; put the certificate itself in 'certificate-authority-data'", name)
		}
		if cluster.InsecureSkipTLSVerify && !policy.AllowInsecureTLS {
			return fmt.Errorf("cluster '%s' skips TLS verification, which the controller refuses unless started with --insecure-kubeconfig-tls", name)
		}
	}
	return nil
}
