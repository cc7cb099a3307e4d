package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/logs"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/ignore"
	"github.com/driftless/driftless/internal/engine/oci"
)

func newPushCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Push artifacts",
		Long:  "The push command publishes OCI artifacts.",
	}
	cmd.AddCommand(newPushArtifactCommand(f))
	return cmd
}

type pushArtifactOptions struct {
	registryFlags
	path, source, revision       string
	ignorePaths, annotations     []string
	reproducible, resolveSymlink bool
	debug                        bool
	output                       string
}

// pushed is what -o json|yaml prints, Flux's shape.
type pushed struct {
	URL        string `json:"url"`
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	Digest     string `json:"digest"`
}

func newPushArtifactCommand(f *Factory) *cobra.Command {
	o := &pushArtifactOptions{}
	cmd := &cobra.Command{
		Use:   "artifact oci://HOST/PATH:TAG",
		Short: "Push artifact",
		Long: "The push artifact command creates a tarball from the given directory or the single file and uploads\n" +
			"the artifact to an OCI repository, in Flux's format: config " + oci.ConfigMediaType + ",\n" +
			"one layer " + oci.ContentMediaType + ", annotated with\n" +
			"the source, the revision and the creation time. A directory is archived exactly as `flux build\n" +
			"artifact` and source-controller archive it (the same .sourceignore files, --ignore-paths and default\n" +
			"exclusions), so the same content always gives the same layer digest.\n" +
			"The command reads the credentials from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) unless\n" +
			"they are passed with --creds.",
		Example: `  # Push manifests using the short Git SHA as the OCI artifact tag
  flux push artifact oci://ghcr.io/org/config/app:$(git rev-parse --short HEAD) \
	--path="./path/to/local/manifests" \
	--source="$(git config --get remote.origin.url)" \
	--revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)"

  # Push and sign the artifact with cosign
  digest_url=$(flux push artifact oci://ghcr.io/org/config/app:$(git rev-parse --short HEAD) \
	--source="$(git config --get remote.origin.url)" \
	--revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)" \
	--path="./path/to/local/manifest.yaml" \
	--output json | jq -r '. | .repository + "@" + .digest')
  cosign sign $digest_url

  # Push manifests passed into stdin with custom OCI annotations, reproducibly
  kustomize build . | flux push artifact oci://ghcr.io/org/config/app:$(git rev-parse --short HEAD) -f - \
	--source="$(git config --get remote.origin.url)" \
	--revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)" \
	--annotations='org.opencontainers.image.licenses=Apache-2.0' --reproducible`,
		Args: artifactURLArg("artifact URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pushArtifact(cmd.Context(), f, o, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.path, "path", "f", "", "path to the directory where the Kubernetes manifests are located, a single file, or - for standard input")
	fs.StringVar(&o.source, "source", "", "the source address, e.g. the Git URL")
	fs.StringVar(&o.revision, "revision", "", "the source revision in the format '<branch|tag>@sha1:<commit-sha>'")
	fs.StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "set paths to ignore in .gitignore format, as a GitRepository's spec.ignore "+
		"(default: the .sourceignore files and Flux's exclusions: "+strings.Join(defaultExclusions(), ",")+")")
	fs.StringArrayVarP(&o.annotations, "annotations", "a", nil, "Set custom OCI annotations in the format '<key>=<value>'")
	fs.BoolVar(&o.reproducible, "reproducible", false, "ensure reproducible image digests by setting the created timestamp to '1970-01-01T00:00:00Z'")
	fs.BoolVar(&o.resolveSymlink, "resolve-symlinks", false, "resolve symlinks by copying their targets into the artifact (targets must be inside --path)")
	fs.StringVarP(&o.output, "output", "o", "", "the format in which the artifact digest should be printed, can be 'json' or 'yaml'")
	fs.BoolVar(&o.debug, "debug", false, "display logs from underlying library")
	o.addFlags(fs, "allows artifacts to be pushed without TLS")
	return cmd
}

// defaultExclusions are the patterns left out when no .sourceignore file
// and no --ignore-paths give any.
func defaultExclusions() []string {
	return append(ignore.VCSPatterns(), ignore.DefaultPatterns()...)
}

func pushArtifact(ctx context.Context, f *Factory, o *pushArtifactOptions, url string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	meta, err := o.validate()
	if err == nil {
		// Flux pushes any revision as it is, and scripts written for its
		// older '<branch>/<sha>' form must keep working: say what the
		// controllers will show, do not refuse it.
		if _, _, _, perr := artifact.ParseRevision(o.revision); perr != nil {
			fmt.Fprintf(f.Err, "► --revision %q is not in the <branch|tag>@sha1:<commit-sha> format (%v); pushed as it is, and shown so in lastAppliedOriginRevision\n", o.revision, perr)
		}
	}
	if err != nil {
		return err
	}
	ref, err := parseArtifactRef(url)
	if err != nil {
		return err
	}
	if ref.Digest != "" {
		return fmt.Errorf("%s names a digest: push needs a tag, e.g. %s%s/%s:v1.0.0", url, oci.URLPrefix, ref.Registry, ref.Path)
	}
	c, err := o.client(f)
	if err != nil {
		return err
	}
	var layer bytes.Buffer
	if err := packArtifact(f, packOptions{path: o.path, ignorePaths: o.ignorePaths, resolveSymlinks: o.resolveSymlink}, &layer); err != nil {
		return err
	}
	if o.debug {
		// go-containerregistry logs its retries and fallbacks there.
		logs.Warn.SetOutput(f.Err)
		defer logs.Warn.SetOutput(io.Discard)
	}
	if o.output == "" {
		fmt.Fprintf(f.Err, "► pushing artifact to %s\n", refString(ref))
	}
	digest, err := c.Push(ctx, ref.Repository, ref.Tag, layer.Bytes(), meta)
	if err != nil {
		return fmt.Errorf("pushing artifact failed: %w", o.explain(err))
	}
	info := pushed{
		URL:        oci.URLPrefix + ref.Registry + "/" + ref.Path + "@" + digest,
		Repository: ref.Registry + "/" + ref.Path,
		Tag:        ref.Tag,
		Digest:     digest,
	}
	switch o.output {
	case "json":
		b, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(info)
		if err != nil {
			return err
		}
		_, err = f.Out.Write(b)
		return err
	}
	fmt.Fprintf(f.Err, "✔ artifact successfully pushed to %s@%s\n", info.Repository, digest)
	return nil
}

// validate checks the flags that need no registry and returns the
// artifact's metadata.
func (o *pushArtifactOptions) validate() (oci.PushOptions, error) {
	meta := oci.PushOptions{Source: o.source, Revision: o.revision, Reproducible: o.reproducible}
	switch {
	case o.source == "":
		return meta, errors.New("--source is required: where the content comes from, e.g. --source=\"$(git config --get remote.origin.url)\"")
	case o.revision == "":
		return meta, errors.New("--revision is required: the source revision as <branch|tag>@sha1:<commit-sha>, e.g. --revision=\"$(git branch --show-current)@sha1:$(git rev-parse HEAD)\"")
	case o.path == "":
		return meta, errors.New("--path is required: the directory or file to push, or - for standard input")
	}
	switch o.output {
	case "", "json", "yaml":
	default:
		return meta, fmt.Errorf("--output %q: want json or yaml", o.output)
	}
	for _, a := range o.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return meta, fmt.Errorf("invalid annotation %q: must be in the format key=value", a)
		}
		if meta.Annotations == nil {
			meta.Annotations = map[string]string{}
		}
		meta.Annotations[k] = v
	}
	return meta, nil
}
