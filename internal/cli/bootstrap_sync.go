package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/kinds"
)

// sourceSecretData builds the keys of the source secret, which are also
// the credentials bootstrap clones and pushes with. For ssh it reuses the
// deploy key of an existing secret, else --private-key-file, else a new key
// the user is asked to add to the Git host. For http(s) it is basic auth,
// a bearer token, or nil (anonymous) without --password.
func sourceSecretData(ctx context.Context, f *Factory, b *bootstrapOptions, g *bootstrapGitOptions, u *url.URL, ns string) (map[string]string, error) {
	p := progress{f.Err}
	data := map[string]string{}
	if b.caFile != "" {
		ca, err := os.ReadFile(b.caFile)
		if err != nil {
			return nil, fmt.Errorf("read --ca-file: %w", err)
		}
		data[git.CACertKey] = string(ca)
	}
	if u.Scheme != "ssh" {
		switch {
		case g.bearerToken:
			data[git.BearerTokenKey] = g.password
		case g.password != "":
			data[git.UsernameKey] = g.username
			data[git.PasswordKey] = g.password
		}
		if len(data) == 0 {
			p.action("no --password given: the repository is read and written without credentials")
			return nil, nil
		}
		return data, nil
	}

	var pair *sshKeyPair
	switch {
	case b.privateKeyFile != "":
		key, err := os.ReadFile(b.privateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read --private-key-file: %w", err)
		}
		if pair, err = loadKeyPair(key, g.password); err != nil {
			return nil, fmt.Errorf("--private-key-file %s: %w", b.privateKeyFile, err)
		}
		if g.password != "" {
			data[git.PasswordKey] = g.password
		}
	default:
		existing, err := existingSecret(ctx, f, ns, b.secretName)
		if err != nil {
			return nil, err
		}
		if id := existing[git.IdentityKey]; len(id) > 0 {
			p.success("reusing the deploy key of secret %s/%s", ns, b.secretName)
			pair = &sshKeyPair{PrivateKey: id, PublicKey: existing["identity.pub"]}
			if pw := existing[git.PasswordKey]; len(pw) > 0 {
				data[git.PasswordKey] = string(pw)
			}
			break
		}
		p.action("generating a deploy key")
		if pair, err = generateKeyPair(b.keyAlgorithm, b.rsaBits, b.ecdsaCurve); err != nil {
			return nil, err
		}
		p.success("public key: %s", trimNL(string(pair.PublicKey)))
		if !g.silent {
			ok, err := confirm(f.In, f.Err, "Please give the key access to your repository (with write access)")
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errBootstrapAborted
			}
		}
	}
	host := u.Host
	if b.sshHostname != "" {
		host = b.sshHostname
		if _, _, err := net.SplitHostPort(host); err != nil && u.Port() != "" {
			host = net.JoinHostPort(host, u.Port())
		}
	}
	knownHosts, err := scanHostKey(ctx, host, b.hostKeyAlgos)
	if err != nil {
		return nil, err
	}
	data[git.IdentityKey] = string(pair.PrivateKey)
	data["identity.pub"] = string(pair.PublicKey)
	data[git.KnownHostsKey] = knownHosts + "\n"
	return data, nil
}

var errBootstrapAborted = errors.New("bootstrap aborted: add the deploy key with write access to the repository " +
	"and run the command again, or pass --private-key-file")

func existingSecret(ctx context.Context, f *Factory, ns, name string) (map[string][]byte, error) {
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read secret %s/%s: %w", ns, name, err)
	}
	return s.Data, nil
}

// reconcileSourceSecret applies the secret unless it already holds data.
// Keys the secret has beyond data are left alone.
func reconcileSourceSecret(ctx context.Context, f *Factory, ns, name string, data map[string]string) error {
	p := progress{f.Err}
	p.action("determining if source secret %q exists", ns+"/"+name)
	existing, err := existingSecret(ctx, f, ns, name)
	if err != nil {
		return err
	}
	same := existing != nil
	for k, v := range data {
		if string(existing[k]) != v {
			same = false
		}
	}
	if same {
		p.success("source secret up to date")
		return nil
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	p.action("applying source secret %q", ns+"/"+name)
	u := &unstructured.Unstructured{Object: secretManifest(name, ns, nil, data, true)}
	if err := c.Patch(ctx, u, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply secret %s/%s: %w", ns, name, err)
	}
	p.success("reconciled source secret")
	return nil
}

// applySyncAndWait applies the sync objects server-side and waits until
// both are Ready at head (the branch's commit). When nothing was pushed and
// the objects did not change, a reconciliation is not requested.
func applySyncAndWait(ctx context.Context, f *Factory, repo *sourcev1.GitRepository, ks *kustomizev1.Kustomization, head string, pushed bool) error {
	p := progress{f.Err}
	c, err := f.Client()
	if err != nil {
		return err
	}
	p.action("applying sync manifests")
	changed := false
	existed := true
	for _, obj := range []meta.Object{repo, ks} {
		m, err := manifest(obj)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{Object: m}
		before := &unstructured.Unstructured{}
		before.SetGroupVersionKind(u.GroupVersionKind())
		err = c.Get(ctx, client.ObjectKeyFromObject(u), before)
		switch {
		case apierrors.IsNotFound(err):
			existed = false
		case err != nil:
			return fmt.Errorf("read %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		if err := c.Patch(ctx, u, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		if u.GetResourceVersion() != before.GetResourceVersion() {
			changed = true
		}
	}
	if changed {
		p.success("reconciled sync configuration")
	} else {
		p.success("sync manifests are up to date")
	}
	if existed && (changed || pushed) {
		for _, obj := range []meta.Object{repo, ks} {
			if _, err := requestReconcile(ctx, c, obj); err != nil {
				return fmt.Errorf("request reconciliation of %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
			}
		}
	}
	wctx, cancel := f.withTimeout(ctx)
	defer cancel()
	for _, k := range []kinds.Kind{kinds.GitRepository(), kinds.Kustomization()} {
		key := client.ObjectKey{Namespace: repo.Namespace, Name: repo.Name}
		p.waiting("waiting for %s %q to be reconciled", k.Kind, key.String())
		if _, err := waitFor(wctx, c, k, key, syncReady(k, head)); err != nil {
			return err
		}
		p.success("%s reconciled successfully", k.Kind)
	}
	p.success("bootstrap finished")
	return nil
}

// syncReady is Ready at the current generation with the head commit
// fetched or applied. A kind that reads a source (the Kustomization) and
// has not got the artifact yet is still waiting, not failed.
func syncReady(k kinds.Kind, head string) readiness {
	ready := readyAfter(k, "")
	return func(obj meta.Object) (bool, error) {
		done, err := ready(obj)
		if err != nil {
			if c := apimeta.FindStatusCondition(obj.GetConditions(), meta.ReadyCondition); c != nil && c.Reason == meta.ArtifactFailedReason && k.Source != nil {
				return false, nil
			}
			return true, err
		}
		if !done {
			return false, nil
		}
		return head == "" || strings.HasSuffix(k.RevisionOf(obj), head), nil
	}
}
