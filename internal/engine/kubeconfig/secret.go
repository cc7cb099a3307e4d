package kubeconfig

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/api/meta"
)

// SecretKeys are the keys of a kubeConfig.secretRef Secret tried, in
// order, when spec.kubeConfig.secretRef.key is empty.
var SecretKeys = []string{"value", "value.yaml"}

// RefusedError is a kubeConfig reference the tenant must change: a Secret
// without the key, a kubeconfig the rules refuse, a configMapRef. Other
// errors (reading the Secret) may pass on a retry.
type RefusedError struct{ msg string }

func (e *RefusedError) Error() string { return e.msg }

func refused(format string, args ...any) error {
	return &RefusedError{msg: fmt.Sprintf(format, args...)}
}

// IsRefused says whether err is a RefusedError.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// SecretReader reads the data of the Secret name in the namespace of the
// object whose kubeConfig names it, as the controller may (the tenant's
// Secret, in the tenant's namespace).
type SecretReader func(ctx context.Context, namespace, name string) (map[string][]byte, error)

// Remote is the REST config of the remote cluster ref names for an object
// in namespace: the Secret's kubeconfig under policy, with the QPS and
// burst of base (the controller's own config). Messages name the Secret
// and the key or field at fault, never a value.
func Remote(ctx context.Context, read SecretReader, base *rest.Config, namespace string, ref *meta.KubeConfigReference, policy Policy) (*rest.Config, error) {
	if ref.ConfigMapRef != nil {
		return nil, refused("kubeConfig.configMapRef (cloud provider workload identity) is not supported yet; use kubeConfig.secretRef")
	}
	if ref.SecretRef == nil || ref.SecretRef.Name == "" {
		return nil, refused("kubeConfig sets neither secretRef nor configMapRef; name the Secret holding the kubeconfig in kubeConfig.secretRef")
	}
	name := ref.SecretRef.Name
	data, err := read(ctx, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("get kubeconfig secret '%s/%s': %w", namespace, name, err)
	}
	keys := SecretKeys
	if ref.SecretRef.Key != "" {
		keys = []string{ref.SecretRef.Key}
	}
	var kubeconfig []byte
	for _, k := range keys {
		if v, ok := data[k]; ok {
			kubeconfig = v
			break
		}
	}
	if kubeconfig == nil {
		return nil, refused("kubeconfig secret '%s/%s' has no key %v", namespace, name, keys)
	}
	cfg, err := RESTConfig(kubeconfig, policy)
	if err != nil {
		return nil, refused("kubeconfig secret '%s/%s': %v", namespace, name, err)
	}
	if base != nil {
		cfg.QPS, cfg.Burst = base.QPS, base.Burst
	}
	return cfg, nil
}
