package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/engine/oci"
)

// The values of --provider, as Flux's sourceOCIProvider.
const (
	providerGeneric = "generic"
	providerAWS     = "aws"
	providerAzure   = "azure"
	providerGCP     = "gcp"
)

// ociProvider is the --provider flag of the artifact commands.
type ociProvider string

func (p *ociProvider) String() string { return string(*p) }

// Set accepts one of generic, aws, azure and gcp.
func (p *ociProvider) Set(s string) error {
	switch s {
	case providerGeneric, providerAWS, providerAzure, providerGCP:
		*p = ociProvider(s)
		return nil
	}
	return fmt.Errorf("unsupported OCI provider %q: want one of generic, aws, azure, gcp", s)
}

func (p *ociProvider) Type() string { return "sourceOCIProvider" }

// cloudLogin says how to get credentials of a cloud provider's registry
// that the command line can use instead of its workload identity.
func cloudLogin(provider ociProvider) string {
	switch provider {
	case providerAWS:
		return "Amazon ECR: --creds AWS:$(aws ecr get-login-password)"
	case providerAzure:
		return "Azure Container Registry: --creds 00000000-0000-0000-0000-000000000000:$(az acr login --name <registry> --expose-token --output tsv --query accessToken)"
	}
	return "Google Artifact Registry: --creds oauth2accesstoken:$(gcloud auth print-access-token)"
}

// registryFlags are the flags every artifact command shares.
type registryFlags struct {
	creds    string
	provider ociProvider
	insecure bool
}

// addFlags adds --creds, --provider and --insecure-registry (whose help
// says what plain HTTP allows for this command).
func (r *registryFlags) addFlags(fs *pflag.FlagSet, insecureUsage string) {
	r.provider = providerGeneric
	fs.StringVar(&r.creds, "creds", "", "credentials for OCI registry in the format <username>[:<password>] if --provider is generic")
	fs.Var(&r.provider, "provider", "the OCI provider name, available options are: (generic, aws, azure, gcp)")
	fs.BoolVar(&r.insecure, "insecure-registry", false, insecureUsage)
}

// client returns the registry client the flags ask for: --creds for every
// registry, else the docker config ($DOCKER_CONFIG/config.json or
// ~/.docker/config.json, with its credential helpers). A cloud provider
// is refused: its workload identity is not built.
func (r *registryFlags) client(f *Factory) (*oci.Client, error) {
	if r.provider != providerGeneric {
		return nil, fmt.Errorf("--provider %s: %s; "+
			"give the registry's credentials with --creds <username>:<password> or with `docker login` (in ~/.docker/config.json, or $DOCKER_CONFIG), "+
			"e.g. for %s", r.provider, oci.CloudProviderUnsupported(string(r.provider)), cloudLogin(r.provider))
	}
	opts := oci.Options{Keychain: authn.DefaultKeychain, Insecure: r.insecure, Timeout: f.Timeout}
	if r.creds != "" {
		auth, err := oci.AuthFromCreds(r.creds)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(f.Err, "► logging in to registry with credentials")
		opts.Auth = auth
	}
	return oci.NewClient(opts), nil
}

// explain adds to a registry error what the command line can do about it:
// where the credentials came from, or how to give some; --insecure-registry
// for a plain HTTP registry. It never shows a credential.
func (r *registryFlags) explain(err error) error {
	var e *oci.Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(e.Kind, oci.ErrUnauthorized), errors.Is(e.Kind, oci.ErrForbidden):
		switch {
		case r.creds != "":
			return fmt.Errorf("%w (the credentials were those of --creds)", err)
		case e.CredentialsSent:
			return fmt.Errorf("%w (the credentials were those of the docker config for %s)", err, e.Repository.Registry)
		}
		return fmt.Errorf("%w; give --creds <username>:<password>, or log in with `docker login %s`", err, e.Repository.Registry)
	case errors.Is(e.Kind, oci.ErrTLS) && !r.insecure:
		return fmt.Errorf("%w; for a registry that speaks plain HTTP, add --insecure-registry", err)
	}
	return err
}

// artifactURLArg is the Args of the artifact commands: one oci:// address.
func artifactURLArg(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch len(args) {
		case 0:
			return fmt.Errorf("%s is required, e.g. oci://ghcr.io/org/app:v1.0.0", what)
		case 1:
			return nil
		}
		return fmt.Errorf("want one %s, got %d arguments", what, len(args))
	}
}

// parseArtifactRef reads an artifact address with a tag or a digest; with
// neither it names the tag latest, as Flux does.
func parseArtifactRef(u string) (oci.Reference, error) {
	ref, err := oci.ParseReference(u)
	if err != nil {
		return oci.Reference{}, err
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = oci.DefaultTag
	}
	return ref, nil
}

// refString is the address of ref without the oci:// prefix, as Flux
// prints it (host/path:tag, host/path@digest).
func refString(ref oci.Reference) string {
	s := ref.Registry + "/" + ref.Path
	if ref.Tag != "" {
		s += ":" + ref.Tag
	}
	if ref.Digest != "" {
		s += "@" + ref.Digest
	}
	return s
}

// resolveDigest returns the manifest digest ref names: its digest, or the
// one its tag points at now.
func resolveDigest(ctx context.Context, c *oci.Client, ref oci.Reference) (string, error) {
	if ref.Digest != "" {
		return ref.Digest, nil
	}
	res, err := c.Resolve(ctx, ref.Repository, oci.Selector{Tag: ref.Tag})
	if err != nil {
		return "", err
	}
	return res.Digest, nil
}

// describeManifest lists the media types of the manifest digest in repo,
// for the refusal of an artifact that is not Flux's; "" when it cannot be
// read.
func describeManifest(ctx context.Context, c *oci.Client, repo oci.Repository, digest string) string {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout())
	defer cancel()
	ref, err := name.NewDigest(repo.Registry+"/"+repo.Path+"@"+digest, c.NameOptions()...)
	if err != nil {
		return ""
	}
	desc, err := remote.Get(ref, c.RemoteOptions(ctx)...)
	if err != nil {
		return ""
	}
	var prefix string
	if desc.MediaType.IsIndex() {
		prefix = fmt.Sprintf("an image index (%s) whose linux/amd64 manifest has ", desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return ""
	}
	man, err := img.Manifest()
	if err != nil {
		return ""
	}
	layers := make([]string, 0, len(man.Layers))
	for _, l := range man.Layers {
		layers = append(layers, string(l.MediaType))
	}
	if len(layers) == 0 {
		layers = append(layers, "none")
	}
	return fmt.Sprintf("%sconfig media type %s and layer media types %s", prefix, man.Config.MediaType, strings.Join(layers, ", "))
}

// notFluxArtifact explains the refusal of an artifact without a Flux
// content layer.
func notFluxArtifact(ctx context.Context, c *oci.Client, ref oci.Reference, digest string, err error) error {
	if !errors.Is(err, oci.ErrLayerNotFound) {
		return err
	}
	msg := fmt.Sprintf("%s is not a Flux artifact: `flux push artifact` writes config media type %s and one layer of media type %s",
		oci.URLPrefix+refString(ref), oci.ConfigMediaType, oci.ContentMediaType)
	if d := describeManifest(ctx, c, ref.Repository, digest); d != "" {
		return fmt.Errorf("%s; this one has %s", msg, d)
	}
	return fmt.Errorf("%s: %w", msg, err)
}
