package cli

import (
	"context"
	"fmt"
	"net/url"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// run is `flux create source git NAME`: unless --secret-ref names an
// existing Secret, the credentials the flags give (an SSH key pair, basic
// authentication, a CA) are stored in a Secret named after the source,
// which the GitRepository then references, as Flux does. Everything is
// checked, and the deploy key confirmed, before anything is written.
func (o *createSourceGitOptions) run(ctx context.Context, f *Factory, common *createOptions, args []string) error {
	k := kinds.GitRepository()
	name, err := checkName(args, "create "+k.Command.Path())
	if err != nil {
		return err
	}
	ns, err := f.Namespace()
	if err != nil {
		return err
	}
	repo, err := o.build(name, ns, common)
	if err != nil {
		return err
	}
	u, err := url.Parse(o.url)
	if err != nil {
		return err
	}
	if err := o.checkAuthFlags(u); err != nil {
		return err
	}
	if common.export {
		return exportYAML(f.Out, repo)
	}
	p := progress{f.Err}
	p.action("generating %s", k.Command.Noun)
	data, err := o.authData(ctx, f, u)
	if err != nil {
		return err
	}
	if data != nil {
		if err := o.confirmDeployKey(f, data); err != nil {
			return err
		}
		p.action("applying secret with repository credentials")
		secret := &generatedSecret{name: name, namespace: ns, data: data}
		if err := secret.apply(ctx, f); err != nil {
			return err
		}
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: name}
		p.success("authentication configured")
	}
	_, err = applyAndWait(ctx, f, k, repo)
	return err
}

// checkAuthFlags refuses credential flags that would be ignored.
func (o *createSourceGitOptions) checkAuthFlags(u *url.URL) error {
	given := ""
	for _, fl := range []struct{ name, value string }{{"--username", o.username}, {"--password", o.password},
		{"--ca-file", o.caFile}, {"--private-key-file", o.ssh.privateKeyFile}} {
		if fl.value != "" && given == "" {
			given = fl.name
		}
	}
	switch {
	case given != "" && o.secretRef != "":
		return fmt.Errorf("%s cannot be combined with --secret-ref: the credentials are in the Secret it names; "+
			"leave out --secret-ref to store them in a new Secret", given)
	case o.provider == sourcev1.GitProviderGitHub && o.secretRef == "":
		return fmt.Errorf("--provider=github authenticates as a GitHub App: give --secret-ref naming a Secret made with " +
			"'flux create secret githubapp'")
	case o.provider != sourcev1.GitProviderGeneric && u.Scheme != "https":
		return fmt.Errorf("--provider=%s needs an https:// --url", o.provider)
	case given != "" && o.provider == sourcev1.GitProviderAzure:
		return fmt.Errorf("%s cannot be used with --provider=azure, which authenticates with the workload identity", given)
	}
	if u.Scheme == "ssh" {
		if o.caFile != "" {
			return fmt.Errorf("specifying a CA file is not supported for Git over SSH: leave out --ca-file")
		}
		if o.username != "" {
			return fmt.Errorf("--username is not used with ssh:// URLs: the SSH user is part of --url (ssh://git@host/...)")
		}
		return nil
	}
	if o.ssh.privateKeyFile != "" {
		return fmt.Errorf("--private-key-file is only used with ssh:// URLs")
	}
	if o.caFile != "" && u.Scheme != "https" {
		return fmt.Errorf("--ca-file needs an https:// --url")
	}
	return bothOrNeither("--username", o.username, "--password", o.password)
}

// authData returns the keys of the credentials Secret, or nil when the
// source needs none: for ssh:// a key pair (read or generated) and the
// scanned host key, for http(s):// the basic authentication and the CA.
func (o *createSourceGitOptions) authData(ctx context.Context, f *Factory, u *url.URL) (map[string]string, error) {
	if o.secretRef != "" || o.provider != sourcev1.GitProviderGeneric {
		return nil, nil
	}
	if u.Scheme == "ssh" {
		pair, err := o.ssh.keyPair(o.password)
		if err != nil {
			return nil, err
		}
		return sshSecretData(ctx, u.Host, pair, o.password)
	}
	data := map[string]string{}
	if o.username != "" {
		if u.Scheme == "http" {
			fmt.Fprintln(f.Err, "⚠️ insecure configuration: credentials configured for an HTTP URL")
		}
		data["username"], data["password"] = o.username, o.password
	}
	if o.caFile != "" {
		ca, err := readCertificates("--ca-file", o.caFile)
		if err != nil {
			return nil, err
		}
		data["ca.crt"] = ca
	}
	if len(data) == 0 {
		return nil, nil
	}
	return data, nil
}

// confirmDeployKey prints the scanned host key and the public key of an
// SSH secret and, unless --silent, asks whether the deploy key was added
// to the repository.
func (o *createSourceGitOptions) confirmDeployKey(f *Factory, data map[string]string) error {
	pub, ok := data["identity.pub"]
	if !ok {
		return nil
	}
	p := progress{f.Err}
	p.success("collected public key from SSH server:\n%s", data["known_hosts"])
	fmt.Fprintf(f.Err, "✚ deploy key: %s\n", trimNL(pub))
	if o.silent {
		return nil
	}
	yes, err := confirm(f.In, f.Err, "Have you added the deploy key to your repository")
	if err != nil {
		return err
	}
	if !yes {
		return fmt.Errorf("aborting: add the deploy key to the repository and run again (or pass --silent); nothing was created")
	}
	return nil
}
