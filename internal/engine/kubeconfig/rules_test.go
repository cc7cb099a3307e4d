package kubeconfig

import (
	"strings"
	"testing"
)

// kubeconfigWith is a kubeconfig for https://remote.example:6443 with
// extra lines for its user and its cluster.
func kubeconfigWith(user, cluster string) []byte {
	return []byte(`apiVersion: v1
kind: Config
current-context: remote
contexts:
- name: remote
  context: {cluster: remote, user: tenant}
clusters:
- name: remote
  cluster:
    server: https://remote.example:6443
` + cluster + `
users:
- name: tenant
  user:
` + user + "\n")
}

// Every kubeconfig field that reads a file of the controller's, runs a
// program or switches identity is refused, and the refusal names it.
func TestKubeconfigRefusesControllerFilesAndIdentities(t *testing.T) {
	for _, tc := range []struct {
		name, user, cluster, field string
	}{
		{"token file", "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token", "", "tokenFile"},
		{"client certificate path", "    client-certificate: /etc/ssl/cert.pem", "", "client-certificate"},
		{"client key path", "    client-key: /etc/ssl/key.pem", "", "client-key"},
		{"certificate authority path", "    token: inline", "    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "certificate-authority"},
		{"impersonated user", "    token: inline\n    as: system:admin", "", "'as'"},
		{"impersonated uid", "    token: inline\n    as-uid: '0'", "", "as-uid"},
		{"impersonated groups", "    token: inline\n    as-groups: [system:masters]", "", "as-groups"},
		{"impersonated extra", "    token: inline\n    as-user-extra: {scopes: [all]}", "", "as-user-extra"},
		{"exec plugin", "    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'cat /etc/passwd']}", "", "exec plugin"},
		{"auth provider", "    auth-provider: {name: oidc}", "", "auth provider"},
		{"skipped TLS verification", "    token: inline", "    insecure-skip-tls-verify: true", "skips TLS verification"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := RESTConfig(kubeconfigWith(tc.user, tc.cluster), Policy{})
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

// The flags that allow exec plugins and skipped TLS verification do, and
// nothing else; the config keeps only inline credentials and gets a timeout.
func TestKubeconfigInlineCredentials(t *testing.T) {
	cfg, err := RESTConfig(kubeconfigWith("    token: inline-token", ""), Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://remote.example:6443" || cfg.BearerToken != "inline-token" || cfg.BearerTokenFile != "" {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Timeout != ClientTimeout {
		t.Errorf("timeout %s, want %s", cfg.Timeout, ClientTimeout)
	}
	exec := "    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, interactiveMode: Never}"
	if _, err := RESTConfig(kubeconfigWith(exec, ""), Policy{AllowExec: true}); err != nil {
		t.Errorf("exec refused with --insecure-kubeconfig-exec: %v", err)
	}
	insecure := "    insecure-skip-tls-verify: true"
	if _, err := RESTConfig(kubeconfigWith("    token: x", insecure), Policy{AllowInsecureTLS: true}); err != nil {
		t.Errorf("insecure TLS refused with --insecure-kubeconfig-tls: %v", err)
	}
	withFile := "    token: x\n    tokenFile: /etc/passwd"
	if _, err := RESTConfig(kubeconfigWith(withFile, ""), Policy{AllowExec: true, AllowInsecureTLS: true}); err == nil {
		t.Error("tokenFile accepted under the insecure flags")
	}
}
