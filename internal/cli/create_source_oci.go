package cli

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// createSourceOCIOptions are the flags of `flux create source oci`, named
// as Flux v2.9 names them.
type createSourceOCIOptions struct {
	url, tag, semver, digest           string
	provider                           string
	secretRef, serviceAccount, certRef string
	proxySecretRef                     string
	verifyProvider, verifySecretRef    string
	verifySubject, verifyIssuer        string
	ignorePaths                        []string
	insecure                           bool
	layerSelector                      string
	fetchTimeout                       time.Duration
}

func newCreateSourceOCICommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSourceOCIOptions{}
	cmd := newCreateKindCommand(f, common, kinds.OCIRepository(), &cobra.Command{
		Short: "Create or update an OCIRepository",
		Long:  `The create source oci command generates an OCIRepository resource and waits for it to be ready.`,
		Example: `  # Create an OCIRepository for a public container image
  flux create source oci podinfo \
    --url=oci://ghcr.io/stefanprodan/manifests/podinfo \
    --tag=6.6.2 \
    --interval=10m

  # Follow a semver range, with the credentials of an image pull secret
  # (flux create secret oci makes one)
  flux create source oci podinfo \
    --url=oci://ghcr.io/stefanprodan/manifests/podinfo \
    --tag-semver=">=6.0.0 <7.0.0" \
    --secret-ref=podinfo-auth

  # Verify the cosign signature with the public keys (*.pub) of a Secret
  flux create source oci podinfo \
    --url=oci://ghcr.io/stefanprodan/manifests/podinfo \
    --tag=6.6.2 \
    --verify-provider=cosign \
    --verify-secret-ref=cosign-pub

  # Store the Helm chart layer of an artifact as it is
  flux create source oci podinfo \
    --url=oci://ghcr.io/stefanprodan/charts/podinfo \
    --tag=6.6.2 \
    --layer-selector=application/vnd.cncf.helm.chart.content.v1.tar+gzip:copy

  # Print the OCIRepository instead of applying it
  flux create source oci podinfo \
    --url=oci://ghcr.io/stefanprodan/manifests/podinfo \
    --digest=sha256:3b6cdcc7adcc9a84d3214ee1c029543789d90b5ae69debe9efa3f66e982875de \
    --export`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common, f.Err)
	})
	fl := cmd.Flags()
	fl.StringVar(&o.url, "url", "", "the OCI repository URL, e.g. oci://ghcr.io/org/manifests/app")
	fl.StringVar(&o.tag, "tag", "", "the OCI artifact tag")
	fl.StringVar(&o.semver, "tag-semver", "", "the OCI artifact tag semver range")
	fl.StringVar(&o.digest, "digest", "", "the OCI artifact digest")
	fl.StringVar(&o.provider, "provider", sourcev1.GenericOCIProvider,
		"the OCI provider name, available options are: (generic, aws, azure, gcp)")
	fl.StringVar(&o.secretRef, "secret-ref", "", "the name of the Kubernetes image pull secret (type 'kubernetes.io/dockerconfigjson')")
	fl.StringVar(&o.serviceAccount, "service-account", "", "the name of the Kubernetes service account that refers to an image pull secret")
	fl.StringVar(&o.certRef, "cert-ref", "", "the name of a secret to use for TLS certificates")
	fl.StringVar(&o.proxySecretRef, "proxy-secret-ref", "", "the name of an existing secret containing the proxy address and credentials")
	fl.StringVar(&o.verifyProvider, "verify-provider", "",
		"the OCI verification provider name to use for signature verification, available options are: (cosign, notation)")
	fl.StringVar(&o.verifySecretRef, "verify-secret-ref", "", "the name of a secret to use for signature verification")
	fl.StringVar(&o.verifySubject, "verify-subject", "", "regular expression to use for the OIDC subject during signature verification")
	fl.StringVar(&o.verifyIssuer, "verify-issuer", "", "regular expression to use for the OIDC issuer during signature verification")
	fl.StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "set paths to ignore resources (can specify multiple paths with commas: path1,path2)")
	fl.BoolVar(&o.insecure, "insecure", false, "for when connecting to a non-TLS registries over plain HTTP")
	fl.StringVar(&o.layerSelector, "layer-selector", "",
		"the layer to use, as <media-type>:<operation> where operation is extract (the default) or copy, "+
			"e.g. application/vnd.cncf.helm.chart.content.v1.tar+gzip:copy; without it the first layer is extracted")
	fl.DurationVar(&o.fetchTimeout, "fetch-timeout", 0, "set a timeout for fetch operations performed by source-controller (e.g. 'OCI pull')")
	return cmd
}

// build checks the flags and returns the OCIRepository they describe.
// Warnings (a reference the controller will not use) go to warn.
func (o *createSourceOCIOptions) build(name, ns string, common *createOptions, warn io.Writer) (*sourcev1.OCIRepository, error) {
	if err := checkOCIRepositoryURL(o.url); err != nil {
		return nil, err
	}
	ref, err := o.ref(warn)
	if err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	repo := &sourcev1.OCIRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.OCIRepositoryKind},
		ObjectMeta: objMeta,
		Spec: sourcev1.OCIRepositorySpec{
			URL:       o.url,
			Interval:  interval,
			Reference: ref,
			Insecure:  o.insecure,
		},
	}
	switch o.provider {
	case sourcev1.GenericOCIProvider:
		// The API's default; left out as Flux leaves it out.
	case sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider:
		repo.Spec.Provider = o.provider
	default:
		return nil, fmt.Errorf("OCI provider %q in --provider is not supported, must be one of: generic, aws, azure, gcp", o.provider)
	}
	for _, r := range []struct {
		flag, value string
		set         func(*meta.LocalObjectReference)
	}{
		{"--secret-ref", o.secretRef, func(r *meta.LocalObjectReference) { repo.Spec.SecretRef = r }},
		{"--cert-ref", o.certRef, func(r *meta.LocalObjectReference) { repo.Spec.CertSecretRef = r }},
		{"--proxy-secret-ref", o.proxySecretRef, func(r *meta.LocalObjectReference) { repo.Spec.ProxySecretRef = r }},
	} {
		if r.value == "" {
			continue
		}
		if err := checkObjectName(r.flag, r.value, "Secret"); err != nil {
			return nil, err
		}
		r.set(&meta.LocalObjectReference{Name: r.value})
	}
	if o.serviceAccount != "" {
		if err := checkObjectName("--service-account", o.serviceAccount, "ServiceAccount"); err != nil {
			return nil, err
		}
		repo.Spec.ServiceAccountName = o.serviceAccount
	}
	if repo.Spec.Verify, err = o.verify(); err != nil {
		return nil, err
	}
	if repo.Spec.LayerSelector, err = parseLayerSelector(o.layerSelector); err != nil {
		return nil, err
	}
	if len(o.ignorePaths) > 0 {
		ignore := strings.Join(o.ignorePaths, "\n")
		repo.Spec.Ignore = &ignore
	}
	switch {
	case o.fetchTimeout < 0:
		return nil, fmt.Errorf("--fetch-timeout must be positive, got %s", o.fetchTimeout)
	case o.fetchTimeout > 0:
		repo.Spec.Timeout = &metav1.Duration{Duration: o.fetchTimeout}
	}
	return repo, nil
}

// checkOCIRepositoryURL refuses a --url that the controller could not
// use: it must be oci://<registry>/<repository>, without a tag or digest,
// which have flags of their own.
func checkOCIRepositoryURL(u string) error {
	if u == "" {
		return fmt.Errorf("url is required: add --url=oci://<registry>/<repository>, e.g. --url=oci://ghcr.io/stefanprodan/manifests/podinfo")
	}
	repo, ok := strings.CutPrefix(u, sourcev1.OCIRepositoryPrefix)
	if !ok {
		return fmt.Errorf("invalid --url %q: an OCI repository URL starts with %s, e.g. oci://ghcr.io/stefanprodan/manifests/podinfo",
			u, sourcev1.OCIRepositoryPrefix)
	}
	if _, digest, found := strings.Cut(repo, "@"); found {
		return fmt.Errorf("invalid --url %q: it names the digest %s; give the repository in --url and the digest with --digest", u, digest)
	}
	if i := strings.LastIndexByte(repo, '/'); i >= 0 {
		if _, tag, found := strings.Cut(repo[i+1:], ":"); found {
			return fmt.Errorf("invalid --url %q: it names the tag %q; give the repository in --url and the tag with --tag", u, tag)
		}
	}
	if !strings.Contains(repo, "/") {
		return fmt.Errorf("invalid --url %q: it names no repository; write it as oci://<registry>/<repository>", u)
	}
	if _, err := name.NewRepository(repo); err != nil {
		return fmt.Errorf("invalid --url %q: %v; write it as oci://<registry>/<repository>", u, err)
	}
	return nil
}

// ociTagRE is the grammar of an OCI tag (the distribution spec's).
var ociTagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ref is the reference the flags select. At least one of --tag,
// --tag-semver and --digest is needed; given several, all are written, as
// Flux writes them, and the controller uses the digest over the range and
// the range over the tag, which warn says.
func (o *createSourceOCIOptions) ref(warn io.Writer) (*sourcev1.OCIRepositoryRef, error) {
	if o.tag == "" && o.semver == "" && o.digest == "" {
		return nil, fmt.Errorf("--tag, --tag-semver or --digest is required: the OCIRepository needs the artifact version to pull")
	}
	if o.tag != "" && !ociTagRE.MatchString(o.tag) {
		return nil, fmt.Errorf("invalid --tag %q: a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", o.tag)
	}
	if o.semver != "" {
		if _, err := semver.NewConstraint(o.semver); err != nil {
			return nil, fmt.Errorf("invalid --tag-semver %q: %v; write a range such as '>=1.0.0 <2.0.0' or '1.x'", o.semver, err)
		}
	}
	if o.digest != "" {
		if _, err := v1.NewHash(o.digest); err != nil {
			return nil, fmt.Errorf("invalid --digest %q: want sha256:<64 hex digits> (%v)", o.digest, err)
		}
	}
	switch {
	case o.digest != "" && (o.tag != "" || o.semver != ""):
		fmt.Fprintf(warn, "⚠️ --digest wins over --tag and --tag-semver: the controller pulls %s\n", o.digest)
	case o.semver != "" && o.tag != "":
		fmt.Fprintf(warn, "⚠️ --tag-semver wins over --tag: the controller pulls the highest tag in %q\n", o.semver)
	}
	return &sourcev1.OCIRepositoryRef{Tag: o.tag, SemVer: o.semver, Digest: o.digest}, nil
}

// verify is spec.verify from the --verify-* flags: a provider is needed
// whenever one of the others is given, as Flux requires.
func (o *createSourceOCIOptions) verify() (*sourcev1.OCIRepositoryVerification, error) {
	oidc := o.verifyIssuer != "" || o.verifySubject != ""
	if o.verifyProvider == "" {
		switch {
		case o.verifySecretRef != "":
			return nil, fmt.Errorf("a verification provider must be specified when a secret is specified: add --verify-provider=cosign (or notation)")
		case oidc:
			return nil, fmt.Errorf("a verification provider must be specified when OIDC issuer/subject is specified: add --verify-provider=cosign")
		}
		return nil, nil
	}
	v := &sourcev1.OCIRepositoryVerification{Provider: o.verifyProvider}
	switch o.verifyProvider {
	case sourcev1.VerificationProviderCosign:
	case sourcev1.VerificationProviderNotation:
		if oidc {
			return nil, fmt.Errorf("--verify-issuer and --verify-subject match keyless cosign signatures; notation verifies with the trust policy and certificates of --verify-secret-ref")
		}
	default:
		return nil, fmt.Errorf("verification provider %q in --verify-provider is not supported, must be one of: cosign, notation", o.verifyProvider)
	}
	if o.verifySecretRef != "" {
		if err := checkObjectName("--verify-secret-ref", o.verifySecretRef, "Secret"); err != nil {
			return nil, err
		}
		v.SecretRef = &meta.LocalObjectReference{Name: o.verifySecretRef}
	}
	if oidc {
		// An empty expression matches every identity: Flux writes one for
		// a missing flag, which would accept a signature by anyone the
		// issuer vouches for (or by any issuer).
		if o.verifyIssuer == "" || o.verifySubject == "" {
			return nil, fmt.Errorf("--verify-issuer and --verify-subject go together: without one, a signature of any identity would match; " +
				"give both, with '.*' for one of them to accept any on purpose")
		}
		for flag, expr := range map[string]string{"--verify-issuer": o.verifyIssuer, "--verify-subject": o.verifySubject} {
			if _, err := regexp.Compile(expr); err != nil {
				return nil, fmt.Errorf("invalid %s %q: it is not a regular expression: %v", flag, expr, err)
			}
		}
		v.MatchOIDCIdentity = []sourcev1.OIDCIdentityMatch{{Issuer: o.verifyIssuer, Subject: o.verifySubject}}
	}
	return v, nil
}

// mediaTypeRE is the grammar of a media type, type/subtype (RFC 6838).
var mediaTypeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$`)

// parseLayerSelector reads --layer-selector, <media-type>[:<operation>]:
// a media type has no ':', so the first one starts the operation, which
// is left to the API's default (extract) when not given.
func parseLayerSelector(s string) (*sourcev1.OCILayerSelector, error) {
	if s == "" {
		return nil, nil
	}
	mediaType, op, hasOp := strings.Cut(s, ":")
	if !mediaTypeRE.MatchString(mediaType) {
		return nil, fmt.Errorf("invalid --layer-selector %q: write it as <media-type>:<operation>, "+
			"e.g. application/vnd.cncf.helm.chart.content.v1.tar+gzip:copy", s)
	}
	if hasOp && op != sourcev1.OCILayerExtract && op != sourcev1.OCILayerCopy {
		return nil, fmt.Errorf("invalid operation %q in --layer-selector %q: use extract (unpack the layer) or copy (store it as it is)", op, s)
	}
	return &sourcev1.OCILayerSelector{MediaType: mediaType, Operation: op}, nil
}

// checkObjectName refuses a name the API server would refuse in a
// reference, naming the flag.
func checkObjectName(flag, value, kind string) error {
	if errs := validation.IsDNS1123Subdomain(value); len(errs) > 0 {
		return fmt.Errorf("invalid %s %q: not a valid %s name: %s", flag, value, kind, strings.Join(errs, "; "))
	}
	return nil
}
