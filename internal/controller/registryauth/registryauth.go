// Package registryauth reads the registry credentials an object names in
// its own namespace, for the kinds that pull from OCI registries
// (OCIRepository, ImageRepository): spec.secretRef, then the
// imagePullSecrets of spec.serviceAccountName. Each source remembers the
// Secret it came from, so that a refusal can name it; no value ever reaches
// a message.
package registryauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/engine/oci"
)

// Credentials are the docker-config credentials an object names, in the
// order they are tried. It implements authn.Keychain.
type Credentials struct {
	sources []source
}

type source struct {
	// origin names the Secret and why it was read.
	origin string
	kc     authn.Keychain
}

// Read reads, in namespace, the Secret secretRef (when not "") and the
// imagePullSecrets of serviceAccount (when not ""), directly from r.
func Read(ctx context.Context, r client.Reader, namespace, secretRef, serviceAccount string) (*Credentials, error) {
	c := &Credentials{}
	add := func(name, why string) error {
		origin := fmt.Sprintf("Secret '%s/%s' (%s)", namespace, name, why)
		secret, err := Secret(ctx, r, namespace, name)
		if err != nil {
			return fmt.Errorf("%s: %w", why, err)
		}
		kc, err := oci.KeychainFromDockerConfig(secret.Data)
		if err != nil {
			return fmt.Errorf("invalid %s: %w", origin, err)
		}
		c.sources = append(c.sources, source{origin: origin, kc: kc})
		return nil
	}
	if secretRef != "" {
		if err := add(secretRef, "spec.secretRef"); err != nil {
			return nil, err
		}
	}
	if serviceAccount != "" {
		var acct corev1.ServiceAccount
		if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: serviceAccount}, &acct); err != nil {
			return nil, fmt.Errorf("failed to get service account '%s/%s' (spec.serviceAccountName): %w", namespace, serviceAccount, err)
		}
		for _, ps := range acct.ImagePullSecrets {
			if err := add(ps.Name, fmt.Sprintf("imagePullSecrets of service account '%s'", serviceAccount)); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Secret reads one Secret, with an error that names it.
func Secret(ctx context.Context, r client.Reader, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, fmt.Errorf("failed to get secret '%s/%s': %w", namespace, name, err)
	}
	return &s, nil
}

// Empty tells whether no Secret gave credentials.
func (c *Credentials) Empty() bool { return c == nil || len(c.sources) == 0 }

// Resolve implements authn.Keychain: the first source with an entry for
// the registry wins.
func (c *Credentials) Resolve(res authn.Resource) (authn.Authenticator, error) {
	for _, s := range c.sources {
		a, err := s.kc.Resolve(res)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.origin, err)
		}
		if a != authn.Anonymous {
			return a, nil
		}
	}
	return authn.Anonymous, nil
}

// origin names the Secret whose credentials apply to res, "" for none.
func (c *Credentials) origin(res authn.Resource) string {
	for _, s := range c.sources {
		if a, err := s.kc.Resolve(res); err == nil && a != authn.Anonymous {
			return s.origin
		}
	}
	return ""
}

func (c *Credentials) origins() string {
	o := make([]string, 0, len(c.sources))
	for _, s := range c.sources {
		o = append(o, s.origin)
	}
	return strings.Join(o, ", ")
}

// ExplainRefusal adds to a 401 or 403 of the registry which Secret the
// credentials came from, or why none were sent; other errors are returned
// as they are.
func (c *Credentials) ExplainRefusal(err error, registry string, res authn.Resource) error {
	var e *oci.Error
	if c == nil || !errors.As(err, &e) || !(errors.Is(e.Kind, oci.ErrUnauthorized) || errors.Is(e.Kind, oci.ErrForbidden)) {
		return err
	}
	switch {
	case e.CredentialsSent:
		return fmt.Errorf("%w; the credentials sent came from %s", err, c.origin(res))
	case len(c.sources) == 0:
		return fmt.Errorf("%w; neither spec.secretRef nor the imagePullSecrets of spec.serviceAccountName give credentials", err)
	case len(c.sources) == 1:
		return fmt.Errorf("%w; %s has no entry for registry %s", err, c.origins(), registry)
	}
	return fmt.Errorf("%w; none of %s has an entry for registry %s", err, c.origins(), registry)
}
