package kubeconfig

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/api/meta"
)

func secretOf(data map[string][]byte) SecretReader {
	return func(_ context.Context, _, _ string) (map[string][]byte, error) { return data, nil }
}

// The Secret's key is value, then value.yaml, or the one secretRef names;
// what is wrong is refused (the tenant must fix it) naming the Secret, and
// a read that failed is not.
func TestRemoteFromSecret(t *testing.T) {
	ctx := context.Background()
	good := kubeconfigWith("    token: the-secret-token", "")
	base := &rest.Config{QPS: 50, Burst: 300}
	for _, tc := range []struct {
		name string
		data map[string][]byte
		ref  meta.KubeConfigReference
	}{
		{"value", map[string][]byte{"value": good, "value.yaml": []byte("broken")}, meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote"}}},
		{"value.yaml", map[string][]byte{"value.yaml": good}, meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote"}}},
		{"named key", map[string][]byte{"value": []byte("broken"), "cfg": good}, meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote", Key: "cfg"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Remote(ctx, secretOf(tc.data), base, "team", &tc.ref, Policy{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.BearerToken != "the-secret-token" || cfg.QPS != 50 || cfg.Burst != 300 {
				t.Errorf("config %+v", cfg)
			}
		})
	}
	for _, tc := range []struct {
		name, want string
		data       map[string][]byte
		ref        meta.KubeConfigReference
	}{
		{"no key", "kubeconfig secret 'team/remote' has no key [value value.yaml]", map[string][]byte{"other": good}, meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote"}}},
		{"tokenFile", "kubeconfig secret 'team/remote': user 'tenant' sets 'tokenFile'", map[string][]byte{"value": kubeconfigWith("    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token", "")}, meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote"}}},
		{"configMapRef", "kubeConfig.configMapRef (cloud provider workload identity) is not supported yet", nil, meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "aws"}}},
		{"nothing", "kubeConfig sets neither secretRef nor configMapRef", nil, meta.KubeConfigReference{}},
		{"not YAML", "kubeconfig secret 'team/remote'", map[string][]byte{"value": []byte("token: [the-secret-token")}, meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Remote(ctx, secretOf(tc.data), base, "team", &tc.ref, Policy{})
			if !IsRefused(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a refusal saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "the-secret-token") {
				t.Errorf("error %q prints the Secret's value", err)
			}
		})
	}
	failing := func(context.Context, string, string) (map[string][]byte, error) {
		return nil, errors.New("connection refused")
	}
	_, err := Remote(ctx, failing, base, "team", &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote"}}, Policy{})
	if err == nil || IsRefused(err) || !strings.Contains(err.Error(), "team/remote") {
		t.Errorf("a failed read: %v, want a retryable error naming the Secret", err)
	}
}

// Two groups bind the flags on one command line: one registration, both
// read the parsed values, whichever binds first.
func TestFlagsSharedByGroups(t *testing.T) {
	var kustomize, helm Flags
	if p := helm.Policy(); p.AllowExec || p.AllowInsecureTLS {
		t.Errorf("unbound flags allow %+v", p)
	}
	fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
	helm.Bind(fs)
	kustomize.Bind(fs)
	if err := fs.Parse([]string{"--insecure-kubeconfig-exec"}); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*Flags{"kustomize": &kustomize, "helm": &helm} {
		if p := f.Policy(); !p.AllowExec || p.AllowInsecureTLS {
			t.Errorf("%s reads %+v, want exec only", name, p)
		}
	}
	alone := pflag.NewFlagSet("helm-only", pflag.ContinueOnError)
	var only Flags
	only.Bind(alone)
	if err := alone.Parse([]string{"--insecure-kubeconfig-tls=true"}); err != nil {
		t.Fatalf("one group alone does not accept the flag: %v", err)
	}
	if p := only.Policy(); p.AllowExec || !p.AllowInsecureTLS {
		t.Errorf("reads %+v, want TLS only", p)
	}
}
