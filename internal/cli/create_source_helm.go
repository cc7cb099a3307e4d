package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// createSourceHelmOptions are the flags of `flux create source helm`, named
// as Flux v2.9 names them.
type createSourceHelmOptions struct {
	url                       string
	username, password        string
	certFile, keyFile, caFile string
	secretRef, ociProvider    string
	passCredentials           bool
	fetchTimeout              time.Duration
}

func newCreateSourceHelmCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSourceHelmOptions{}
	k := kinds.HelmRepository()
	cmd := &cobra.Command{
		Use:     k.Command.Name + " NAME",
		Aliases: k.Command.Aliases,
		Short:   "Create or update a HelmRepository source",
		Long: `The create source helm command generates a HelmRepository resource and waits for it to fetch the index.
For private Helm repositories, the basic authentication credentials and the TLS certificates are stored
in a Kubernetes secret named helm-<name>. A HelmRepository of an oci:// URL (type oci) is a static object
that HelmCharts pull from: it has no status to wait for.`,
		Example: `  # Create a source for an HTTPS public Helm repository
  flux create source helm podinfo \
    --url=https://stefanprodan.github.io/podinfo \
    --interval=10m

  # Create a source for an HTTPS Helm repository using basic authentication
  flux create source helm podinfo \
    --url=https://stefanprodan.github.io/podinfo \
    --username=username \
    --password=password

  # Create a source for an HTTPS Helm repository using TLS authentication
  flux create source helm podinfo \
    --url=https://stefanprodan.github.io/podinfo \
    --cert-file=./cert.crt \
    --key-file=./key.crt \
    --ca-file=./ca.crt

  # Create a source for an OCI Helm repository
  flux create source helm podinfo \
    --url=oci://ghcr.io/stefanprodan/charts/podinfo \
    --username=username \
    --password=password

  # Create a source for an OCI Helm repository using an existing secret with basic auth or dockerconfig credentials
  flux create source helm podinfo \
    --url=oci://ghcr.io/stefanprodan/charts/podinfo \
    --secret-ref=docker-config`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), f, common, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.url, "url", "", "Helm repository address")
	fl.StringVarP(&o.username, "username", "u", "", "basic authentication username")
	fl.StringVarP(&o.password, "password", "p", "", "basic authentication password")
	fl.StringVar(&o.certFile, "cert-file", "", "TLS authentication cert file path")
	fl.StringVar(&o.keyFile, "key-file", "", "TLS authentication key file path")
	fl.StringVar(&o.caFile, "ca-file", "", "TLS authentication CA file path")
	fl.StringVar(&o.secretRef, "secret-ref", "", "the name of an existing secret containing TLS, basic auth or docker-config credentials")
	fl.StringVar(&o.ociProvider, "oci-provider", "",
		"OCI provider for authentication of an oci:// repository, available options are: (generic, aws, azure, gcp)")
	fl.BoolVar(&o.passCredentials, "pass-credentials", false, "pass credentials to all domains")
	fl.DurationVar(&o.fetchTimeout, "fetch-timeout", 0,
		"set a timeout for fetch operations performed by source-controller (e.g. 'index download')")
	return cmd
}

// run is `flux create source helm NAME`: unless --secret-ref names an
// existing Secret, the credentials the flags give are stored in the Secret
// helm-<name>, which the HelmRepository references. Every flag and file is
// checked before anything is written.
func (o *createSourceHelmOptions) run(ctx context.Context, f *Factory, common *createOptions, args []string) error {
	k := kinds.HelmRepository()
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
	data, err := o.secretData()
	if err != nil {
		return err
	}
	if common.export {
		// As Flux: the credentials Secret is not part of the export.
		return exportYAML(f.Out, repo)
	}
	p := progress{f.Err}
	p.action("generating %s", k.Command.Noun)
	if data != nil {
		if o.username != "" && repo.Spec.Type != sourcev1.HelmRepositoryTypeOCI {
			if u, _ := url.Parse(o.url); u.Scheme == "http" {
				fmt.Fprintln(f.Err, "⚠️ insecure configuration: credentials configured for an HTTP URL")
			}
		}
		secretName := "helm-" + name
		p.action("applying secret with repository credentials")
		secret := &generatedSecret{name: secretName, namespace: ns, data: data}
		if err := secret.apply(ctx, f); err != nil {
			return err
		}
		o.reference(repo, secretName)
		p.success("authentication configured")
	}
	_, err = applyAndWait(ctx, f, k, repo)
	return err
}

// build checks the flags and returns the HelmRepository they describe,
// without the references to a Secret the command writes itself.
func (o *createSourceHelmOptions) build(name, ns string, common *createOptions) (*sourcev1.HelmRepository, error) {
	u, err := checkHelmRepositoryURL(o.url)
	if err != nil {
		return nil, err
	}
	if err := o.checkCredentialFlags(); err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	repo := &sourcev1.HelmRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.HelmRepositoryKind},
		ObjectMeta: objMeta,
		Spec:       sourcev1.HelmRepositorySpec{URL: o.url, Interval: interval},
	}
	if u.Scheme == sourcev1.HelmRepositoryTypeOCI {
		repo.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		switch o.ociProvider {
		case "", sourcev1.GenericOCIProvider, sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider:
			repo.Spec.Provider = o.ociProvider
		default:
			return nil, fmt.Errorf("OCI provider %q in --oci-provider is not supported, must be one of: generic, aws, azure, gcp", o.ociProvider)
		}
	} else if o.ociProvider != "" {
		return nil, fmt.Errorf("--oci-provider is only used with an oci:// --url, not %q: leave it out", o.url)
	}
	switch {
	case o.fetchTimeout < 0:
		return nil, fmt.Errorf("--fetch-timeout must be positive, got %s", o.fetchTimeout)
	case o.fetchTimeout > 0:
		repo.Spec.Timeout = &metav1.Duration{Duration: o.fetchTimeout}
	}
	if o.secretRef != "" {
		if err := checkObjectName("--secret-ref", o.secretRef, "Secret"); err != nil {
			return nil, err
		}
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: o.secretRef}
		repo.Spec.PassCredentials = o.passCredentials
	}
	return repo, nil
}

// checkHelmRepositoryURL refuses a --url the HelmRepository API refuses:
// it must be http://, https:// or oci://, with a host.
func checkHelmRepositoryURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("url is required: add --url=https://<host>/<path> for a chart repository, " +
			"or --url=oci://<registry>/<repository> for charts in an OCI registry")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid --url %q: %v", raw, err)
	}
	switch u.Scheme {
	case "http", "https", sourcev1.HelmRepositoryTypeOCI:
	default:
		return nil, fmt.Errorf("URL scheme %q in --url %q is not supported: use http://, https:// or oci://", u.Scheme, raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid --url %q: it names no host; write it as %s://<host>/<path>", raw, u.Scheme)
	}
	return u, nil
}

// checkCredentialFlags refuses credential flags that go together given
// alone, or that would be ignored.
func (o *createSourceHelmOptions) checkCredentialFlags() error {
	if err := bothOrNeither("--username", o.username, "--password", o.password); err != nil {
		return err
	}
	if err := bothOrNeither("--cert-file", o.certFile, "--key-file", o.keyFile); err != nil {
		return err
	}
	given := ""
	for _, fl := range []struct{ name, value string }{{"--username", o.username}, {"--password", o.password},
		{"--cert-file", o.certFile}, {"--key-file", o.keyFile}, {"--ca-file", o.caFile}} {
		if fl.value != "" && given == "" {
			given = fl.name
		}
	}
	switch {
	case given != "" && o.secretRef != "":
		return fmt.Errorf("%s cannot be combined with --secret-ref: the credentials are in the Secret it names; "+
			"leave out --secret-ref to store them in a new Secret", given)
	case o.passCredentials && o.username == "" && o.secretRef == "":
		return fmt.Errorf("--pass-credentials sends the repository's credentials to other hosts, but there are none: " +
			"give --username and --password, or --secret-ref")
	}
	return nil
}

// secretData reads the credentials the flags give into the keys of the
// Secret helm-<name>: username and password, and the TLS certificates
// under the keys certSecretRef reads (tls.crt, tls.key, ca.crt); nil when
// there are none.
func (o *createSourceHelmOptions) secretData() (map[string]string, error) {
	data := map[string]string{}
	if o.username != "" {
		data["username"], data["password"] = o.username, o.password
	}
	if o.certFile != "" {
		crtPEM, err := readFlagFile("--cert-file", o.certFile)
		if err != nil {
			return nil, err
		}
		keyPEM, err := readFlagFile("--key-file", o.keyFile)
		if err != nil {
			return nil, err
		}
		if _, err := tls.X509KeyPair(crtPEM, keyPEM); err != nil {
			return nil, fmt.Errorf("--cert-file %s and --key-file %s are not a valid PEM certificate and private key: %w",
				o.certFile, o.keyFile, err)
		}
		data["tls.crt"], data["tls.key"] = string(crtPEM), string(keyPEM)
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

// reference points the HelmRepository at the Secret the command wrote:
// spec.secretRef for basic authentication (with --pass-credentials), and
// spec.certSecretRef for the certificates, the field that reads them
// without the deprecation of TLS keys in secretRef.
func (o *createSourceHelmOptions) reference(repo *sourcev1.HelmRepository, secretName string) {
	if o.username != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: secretName}
		repo.Spec.PassCredentials = o.passCredentials
	}
	if o.certFile != "" || o.caFile != "" {
		repo.Spec.CertSecretRef = &meta.LocalObjectReference{Name: secretName}
	}
}
