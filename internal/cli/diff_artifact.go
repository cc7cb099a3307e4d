package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/engine/oci"
)

type diffArtifactOptions struct {
	registryFlags
	path        string
	ignorePaths []string
}

func newDiffArtifactCommand(f *Factory) *cobra.Command {
	o := &diffArtifactOptions{}
	cmd := &cobra.Command{
		Use:   "artifact oci://HOST/PATH:TAG --path DIR",
		Short: "Diff Artifact",
		Long: "The diff artifact command computes the diff between the remote OCI artifact and a local directory or\n" +
			"file. The local content is archived as `flux push artifact` would push it (the same ignore rules),\n" +
			"then the files of both are compared by content: it lists the files added (only in the local\n" +
			"content), removed (only in the artifact) and changed. Exits with 0 when there is no difference, 1\n" +
			"when there is one and 2 on error.",
		Example: `  # Check if local files differ from remote
  flux diff artifact oci://ghcr.io/stefanprodan/manifests:podinfo:6.2.0 --path=./kustomize`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := artifactURLArg("artifact URL")(cmd, args); err != nil {
				return &ExitError{Code: exitDiffError, Err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return diffArtifact(ctx, f, o, args[0])
		},
	}
	cmd.Flags().StringVar(&o.path, "path", "", "path to the directory or file where the Kubernetes manifests are located")
	cmd.Flags().StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "set paths to ignore in .gitignore format, as a GitRepository's spec.ignore "+
		"(default: the .sourceignore files and Flux's exclusions)")
	o.addFlags(cmd.Flags(), "allows the remote artifact to be pulled without TLS")
	return cmd
}

// fileDiff is how two trees of files differ, each list sorted.
type fileDiff struct {
	added, removed, changed []string
}

func (d fileDiff) empty() bool { return len(d.added)+len(d.removed)+len(d.changed) == 0 }

func diffArtifact(ctx context.Context, f *Factory, o *diffArtifactOptions, url string) error {
	fail := func(err error) error { return &ExitError{Code: exitDiffError, Err: err} }
	if o.path == "" {
		return fail(errors.New("--path is required: the local directory or file to compare with the artifact"))
	}
	ref, err := parseArtifactRef(url)
	if err != nil {
		return fail(err)
	}
	c, err := o.client(f)
	if err != nil {
		return fail(err)
	}
	var local bytes.Buffer
	if err := packArtifact(f, packOptions{path: o.path, ignorePaths: o.ignorePaths}, &local); err != nil {
		return fail(err)
	}
	localFiles, err := tarFiles(bytes.NewReader(local.Bytes()), oci.DefaultMaxFiles)
	if err != nil {
		return fail(fmt.Errorf("reading the archive of %s: %w", o.path, err))
	}
	remoteFiles, err := pullFiles(ctx, c, o, ref)
	if err != nil {
		return fail(err)
	}
	d := compareFiles(localFiles, remoteFiles)
	if d.empty() {
		fmt.Fprintln(f.Err, "✔ no changes detected")
		return nil
	}
	for _, l := range []struct {
		what  string
		paths []string
	}{{"added", d.added}, {"removed", d.removed}, {"changed", d.changed}} {
		for _, p := range l.paths {
			fmt.Fprintf(f.Out, "%s: %s\n", l.what, p)
		}
	}
	return &ExitError{Code: exitDiffFound, Err: fmt.Errorf(
		"%s differs from %s%s: %d added (only in the local content), %d removed (only in the artifact), %d changed",
		o.path, oci.URLPrefix, refString(ref), len(d.added), len(d.removed), len(d.changed))}
}

// pullFiles downloads the Flux layer of ref, verified, and reads its files.
func pullFiles(ctx context.Context, c *oci.Client, o *diffArtifactOptions, ref oci.Reference) (map[string]string, error) {
	digest, err := resolveDigest(ctx, c, ref)
	if err != nil {
		return nil, fmt.Errorf("pulling artifact failed: %w", o.explain(err))
	}
	tmp, err := os.MkdirTemp("", "flux-diff-artifact-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	file := filepath.Join(tmp, "layer.tgz")
	if _, err := c.Pull(ctx, ref.Repository, digest, oci.PullOptions{
		MediaType: oci.ContentMediaType, Operation: oci.OperationCopy, File: file,
	}); err != nil {
		return nil, fmt.Errorf("pulling artifact failed: %w", o.explain(notFluxArtifact(ctx, c, ref, digest, err)))
	}
	layer, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer layer.Close()
	files, err := tarFiles(layer, oci.DefaultMaxFiles)
	if err != nil {
		return nil, fmt.Errorf("reading the layer of %s%s: %w", oci.URLPrefix, refString(ref), err)
	}
	return files, nil
}

// maxDiffContent bounds what a tarball read for a diff expands to.
const maxDiffContent = 10 * oci.DefaultMaxSize

// tarFiles reads a gzip tarball's regular files: clean name -> sha256 of
// the content. Nothing is written; the content read and the number of
// entries are bounded.
func tarFiles(r io.Reader, maxFiles int) (map[string]string, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a gzip-compressed tarball: %w", err)
	}
	limited := &io.LimitedReader{R: gz, N: maxDiffContent + 1}
	tr := tar.NewReader(limited)
	files := map[string]string{}
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if limited.N <= 0 {
			return nil, fmt.Errorf("the content is over %d bytes", int64(maxDiffContent))
		}
		if err != nil {
			return nil, err
		}
		if n >= maxFiles {
			return nil, fmt.Errorf("more than %d entries", maxFiles)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		sum := sha256.New()
		_, err = io.Copy(sum, tr)
		if limited.N <= 0 {
			return nil, fmt.Errorf("the content is over %d bytes", int64(maxDiffContent))
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		files[name] = hex.EncodeToString(sum.Sum(nil))
	}
}

// compareFiles tells how local differs from remote.
func compareFiles(local, remote map[string]string) fileDiff {
	var d fileDiff
	for name, sum := range local {
		switch r, ok := remote[name]; {
		case !ok:
			d.added = append(d.added, name)
		case r != sum:
			d.changed = append(d.changed, name)
		}
	}
	for name := range remote {
		if _, ok := local[name]; !ok {
			d.removed = append(d.removed, name)
		}
	}
	sort.Strings(d.added)
	sort.Strings(d.removed)
	sort.Strings(d.changed)
	return d
}
