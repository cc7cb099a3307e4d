package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newTagCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tag",
		Short: "Tag artifacts",
		Long:  "The tag command tags OCI artifacts.",
	}
	cmd.AddCommand(newTagArtifactCommand(f))
	return cmd
}

func newTagArtifactCommand(f *Factory) *cobra.Command {
	var r registryFlags
	var tags []string
	cmd := &cobra.Command{
		Use:   "artifact oci://HOST/PATH:TAG --tag TAG",
		Short: "Tag artifact",
		Long: "The tag artifact command creates tags for the given OCI artifact: the manifest the address names\n" +
			"now (its tag is resolved once to a digest) gets each --tag, without downloading its content.\n" +
			"The command reads the credentials from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) unless\n" +
			"they are passed with --creds.",
		Example: `  # Tag an artifact version as latest
  flux tag artifact oci://ghcr.io/org/manifests/app:v0.0.1 --tag latest`,
		Args: artifactURLArg("artifact URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return tagArtifact(ctx, f, &r, args[0], tags)
		},
	}
	cmd.Flags().StringSliceVar(&tags, "tag", nil, "tag name")
	r.addFlags(cmd.Flags(), "allows artifacts to be tagged without TLS")
	return cmd
}

func tagArtifact(ctx context.Context, f *Factory, r *registryFlags, url string, tags []string) error {
	if len(tags) == 0 {
		return errors.New("--tag is required: the tag to add (repeat it for more)")
	}
	ref, err := parseArtifactRef(url)
	if err != nil {
		return err
	}
	c, err := r.client(f)
	if err != nil {
		return err
	}
	digest, err := resolveDigest(ctx, c, ref)
	if err != nil {
		return fmt.Errorf("tagging artifact failed: %w", r.explain(err))
	}
	for _, t := range tags {
		fmt.Fprintf(f.Err, "► tagging artifact %s as %s\n", refString(ref), t)
		if err := c.Tag(ctx, ref.Repository, digest, t); err != nil {
			return fmt.Errorf("tagging artifact failed: %w", r.explain(err))
		}
		fmt.Fprintf(f.Err, "✔ artifact tagged as %s/%s:%s\n", ref.Registry, ref.Path, t)
	}
	return nil
}
