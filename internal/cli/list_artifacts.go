package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/engine/oci"
)

func newListCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List artifacts",
		Long:  "The list command lists OCI artifacts.",
	}
	cmd.AddCommand(newListArtifactsCommand(f))
	return cmd
}

func newListArtifactsCommand(f *Factory) *cobra.Command {
	var r registryFlags
	var opts oci.ListOptions
	cmd := &cobra.Command{
		Use:     "artifacts oci://HOST/PATH",
		Aliases: []string{"artifact"},
		Short:   "list artifacts",
		Long: "The list command fetches the tags and their metadata from a remote OCI repository: for each tag,\n" +
			"the digest it points at and the source and revision its manifest is annotated with. Tags are\n" +
			"sorted, highest version first with --filter-semver; cosign's signature tags are left out.\n" +
			"The command reads the credentials from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) unless\n" +
			"they are passed with --creds.",
		Example: `  # List the artifacts stored in an OCI repository
  flux list artifact oci://ghcr.io/org/config/app

  # Only the 1.x versions
  flux list artifacts oci://ghcr.io/org/config/app --filter-semver ">=1.0.0 <2.0.0"`,
		Args: artifactURLArg("artifact repository URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return listArtifacts(ctx, f, &r, args[0], opts)
		},
	}
	cmd.Flags().StringVar(&opts.SemverRange, "filter-semver", "", "filter tags returned from the oci repository using semver")
	cmd.Flags().StringVar(&opts.Regex, "filter-regex", "", "filter tags returned from the oci repository using regex")
	r.addFlags(cmd.Flags(), "allows artifacts to be listed without TLS")
	return cmd
}

func listArtifacts(ctx context.Context, f *Factory, r *registryFlags, url string, opts oci.ListOptions) error {
	ref, err := oci.ParseReference(url)
	if err != nil {
		return err
	}
	if ref.Tag != "" || ref.Digest != "" {
		return fmt.Errorf("%s names a tag or digest: list artifacts takes the repository alone, e.g. %s", url, ref.Repository)
	}
	c, err := r.client(f)
	if err != nil {
		return err
	}
	listed, err := c.List(ctx, ref.Repository, opts)
	if err != nil {
		return fmt.Errorf("listing artifacts failed: %w", r.explain(err))
	}
	w := newTabWriter(f.Out)
	writeRow(w, "ARTIFACT", "DIGEST", "SOURCE", "REVISION")
	for _, l := range listed {
		writeRow(w, ref.Registry+"/"+ref.Path+":"+l.Tag, l.Digest, l.Source, l.Revision)
	}
	return w.Flush()
}
