package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/engine/oci"
)

func newPullCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Pull artifacts",
		Long:  "The pull command downloads OCI artifacts.",
	}
	cmd.AddCommand(newPullArtifactCommand(f))
	return cmd
}

func newPullArtifactCommand(f *Factory) *cobra.Command {
	var r registryFlags
	var output string
	cmd := &cobra.Command{
		Use:   "artifact oci://HOST/PATH:TAG -o DIR",
		Short: "Pull artifact",
		Long: "The pull artifact command downloads and extracts the OCI artifact content to the given path.\n" +
			"The artifact must be Flux's (a layer of media type " + oci.ContentMediaType + "); its digest is\n" +
			"verified before anything is extracted, and extraction is source-controller's: regular files and\n" +
			"directories only, symbolic links dropped, absolute names, names escaping the directory, hard links\n" +
			"and devices refused.\n" +
			"The command reads the credentials from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) unless\n" +
			"they are passed with --creds.",
		Example: `  # Pull an OCI artifact created by flux from GHCR
  flux pull artifact oci://ghcr.io/org/manifests/app:v0.0.1 --output ./path/to/local/manifests`,
		Args: artifactURLArg("artifact URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return pullArtifact(ctx, f, &r, args[0], output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "path where the artifact content should be extracted.")
	r.addFlags(cmd.Flags(), "allows artifacts to be pulled without TLS")
	return cmd
}

func pullArtifact(ctx context.Context, f *Factory, r *registryFlags, url, output string) error {
	if output == "" {
		return errors.New("--output is required: the directory to extract the artifact to")
	}
	ref, err := parseArtifactRef(url)
	if err != nil {
		return err
	}
	c, err := r.client(f)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.Err, "► pulling artifact from %s\n", refString(ref))
	digest, err := resolveDigest(ctx, c, ref)
	if err != nil {
		return fmt.Errorf("pulling artifact failed: %w", r.explain(err))
	}
	p, err := c.Pull(ctx, ref.Repository, digest, oci.PullOptions{MediaType: oci.ContentMediaType, Dir: output})
	if err != nil {
		return fmt.Errorf("pulling artifact failed: %w", r.explain(notFluxArtifact(ctx, c, ref, digest, err)))
	}
	if s := p.Annotations[oci.AnnotationSource]; s != "" {
		fmt.Fprintf(f.Err, "✔ source %s\n", s)
	}
	if rev := p.Annotations[oci.AnnotationRevision]; rev != "" {
		fmt.Fprintf(f.Err, "✔ revision %s\n", rev)
	}
	fmt.Fprintf(f.Err, "✔ digest %s/%s@%s\n", ref.Registry, ref.Path, p.Digest)
	fmt.Fprintf(f.Err, "✔ artifact content extracted to %s\n", output)
	return nil
}
