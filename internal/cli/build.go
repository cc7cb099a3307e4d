package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/engine/kustomize"
	"github.com/driftless/driftless/internal/engine/sops"
)

// sopsMask replaces the values of SOPS-encrypted Secrets in build output.
const sopsMask = "**SOPS**"

// ksOwner is the identity the kustomize-controller applies as: its field
// manager and the group of its ownership labels.
var ksOwner = apply.Owner{Field: kustomizev1.FieldManager, Group: kustomizev1.GroupVersion.Group}

// buildFlags are the flags build and diff share, and what a nested build
// of --recursive sets instead of flags.
type buildFlags struct {
	path             string
	file             string
	dryRun           bool
	strictSubstitute bool
	inMemory         bool

	// spec, when set, is the Kustomization to build (a nested one found in
	// a build), read neither from the file nor from the cluster.
	spec *kustomizev1.Kustomization
	// exclude hides ignored paths of path from the build (--in-memory-build
	// with --ignore-paths); nil hides nothing.
	exclude func(rel string, dir bool) bool
}

func (b *buildFlags) addFlags(fs *pflag.FlagSet, dryRun bool) {
	fs.StringVar(&b.path, "path", "", "local directory to build (required)")
	fs.StringVar(&b.file, "kustomization-file", "", "file holding the Kustomization, read instead of the cluster's")
	fs.BoolVar(&b.strictSubstitute, "strict-substitute", false,
		"fail when a variable without a default value is used but not set")
	fs.BoolVar(&b.inMemory, "in-memory-build", false,
		"build without writing anything to disk: --ignore-paths and .sourceignore hide the ignored files from the build "+
			"instead of the kept ones being copied to a temporary directory first (--path itself is never written: "+
			"the kustomization.yaml generated or merged with the spec always lives in memory)")
	if dryRun {
		fs.BoolVar(&b.dryRun, "dry-run", false,
			"do not contact the cluster: needs --kustomization-file; substituteFrom variables are not read")
	}
}

func newBuildCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build Flux resources locally",
	}
	cmd.AddCommand(newBuildKustomizationCommand(f))
	cmd.AddCommand(newBuildArtifactCommand(f))
	return cmd
}

func newBuildKustomizationCommand(f *Factory) *cobra.Command {
	var b buildFlags
	var ignorePaths []string
	var recursive bool
	var localSources map[string]string
	cmd := &cobra.Command{
		Use:     "kustomization NAME --path DIR",
		Aliases: []string{"ks"},
		Short:   "Build a Kustomization's manifests from a local directory, as the controller would",
		Example: `  # Build the local ./deploy with the spec of the Kustomization "app" in the cluster
  flux build kustomization app --path ./deploy

  # Build without a cluster, from a Kustomization in a file
  flux build kustomization app --path ./deploy --kustomization-file ./app.yaml --dry-run

  # Leave out files, as a .sourceignore would
  flux build kustomization app --path ./deploy --ignore-paths "/drafts/,*.bak.yaml"

  # Build the Kustomizations it holds too, one of them from a second repository
  flux build kustomization flux-system --path ./clusters/prod --recursive \
    --local-sources GitRepository/flux-system/apps=../apps`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, err := buildKustomizationTree(cmd.Context(), f, args[0], b, ignorePaths, recursive, localSources)
			if err != nil {
				return err
			}
			return printManifests(f, objs)
		},
	}
	b.addFlags(cmd.Flags(), true)
	cmd.Flags().StringSliceVar(&ignorePaths, "ignore-paths", nil,
		"set paths to ignore in .gitignore format (can specify multiple paths with commas: path1,path2); "+
			"the .sourceignore files of --path and the source-controller's default exclusions apply too")
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false,
		"build the Kustomizations the output holds too, recursively: those whose source is the top one's "+
			"(from --path without its spec.path) or is given in --local-sources; their objects follow the output")
	cmd.Flags().StringToStringVar(&localSources, "local-sources", nil,
		"local directories of sources, for --recursive: Kind/namespace/name=path (repeat, or separate with commas)")
	return cmd
}

// buildKustomization builds b.path with the spec of the Kustomization name,
// as the kustomize-controller does, and returns the Kustomization and the
// objects with Flux's ownership labels and SOPS values masked.
func buildKustomization(ctx context.Context, f *Factory, name string, b buildFlags) (*kustomizev1.Kustomization, []*unstructured.Unstructured, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if b.path == "" {
		return nil, nil, errors.New("--path is required: give the local directory to build")
	}
	root, err := filepath.Abs(b.path)
	if err != nil {
		return nil, nil, err
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, nil, fmt.Errorf("--path %s is not a directory", b.path)
	}
	ns, err := f.Namespace()
	if err != nil {
		return nil, nil, err
	}
	ks, err := loadKustomization(ctx, f, name, ns, b)
	if err != nil {
		return nil, nil, err
	}
	opts := kustomize.SpecOptions(&ks.Spec)
	opts.Path = ""
	opts.Exclude = b.exclude
	if opts.PostBuild != nil {
		opts.PostBuild.AllowUndefined = !b.strictSubstitute
		if !b.dryRun {
			if opts.PostBuild.Vars, err = substituteVars(ctx, f, ks); err != nil {
				return nil, nil, err
			}
		}
	}
	res, err := kustomize.Build(ctx, root, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("building %s: %w", b.path, err)
	}
	labels := ksOwner.Labels(ks.Name, ks.Namespace)
	for _, o := range res.Objects {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = v
		}
		o.SetLabels(l)
		if err := maskSOPS(o); err != nil {
			return nil, nil, err
		}
	}
	return ks, res.Objects, nil
}

// loadKustomization reads the Kustomization from --kustomization-file or,
// without it, from the cluster.
func loadKustomization(ctx context.Context, f *Factory, name, ns string, b buildFlags) (*kustomizev1.Kustomization, error) {
	if b.spec != nil {
		return b.spec, nil
	}
	if b.file != "" {
		return kustomizationFromFile(b.file, name, ns)
	}
	if b.dryRun {
		return nil, errors.New("--dry-run needs --kustomization-file: without the cluster the Kustomization must come from a file")
	}
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	ks := &kustomizev1.Kustomization{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ks); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("Kustomization %s/%s not found: check the name and -n, or use --kustomization-file", ns, name)
		}
		return nil, fmt.Errorf("reading Kustomization %s/%s: %w", ns, name, err)
	}
	return ks, nil
}

// kustomizationFromFile finds the Kustomization name among the documents of
// path; one without a namespace is in ns.
func kustomizationFromFile(path, name, ns string) (*kustomizev1.Kustomization, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--kustomization-file: %w", err)
	}
	docs, err := splitYAML(string(data))
	if err != nil {
		return nil, fmt.Errorf("--kustomization-file %s: %w", path, err)
	}
	for _, doc := range docs {
		var ks kustomizev1.Kustomization
		if err := yaml.Unmarshal([]byte(doc), &ks); err != nil {
			return nil, fmt.Errorf("--kustomization-file %s: %w", path, err)
		}
		if ks.Kind != kustomizev1.KustomizationKind || ks.Name != name {
			continue
		}
		if ks.Namespace == "" {
			ks.Namespace = ns
		}
		return &ks, nil
	}
	return nil, fmt.Errorf("--kustomization-file %s holds no Kustomization named %q", path, name)
}

// splitYAML splits a multi-document YAML stream.
func splitYAML(s string) ([]string, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(s)))
	var docs []string
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(string(doc)) != "" {
			docs = append(docs, string(doc))
		}
	}
}

// substituteVars reads the post-build variables of ks from the cluster as
// the controller does (kustomize.LoadVars): spec.postBuild.substitute over
// the substituteFrom ConfigMaps and Secrets; optional missing ones skipped.
func substituteVars(ctx context.Context, f *Factory, ks *kustomizev1.Kustomization) (map[string]string, error) {
	pb := ks.Spec.PostBuild
	if pb == nil || len(pb.SubstituteFrom) == 0 {
		return kustomize.LoadVars(ctx, ks.Namespace, pb, nil)
	}
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, key types.NamespacedName, o kustomize.Object) error {
		return c.Get(ctx, key, o)
	}
	vars, err := kustomize.LoadVars(ctx, ks.Namespace, pb, get)
	if err != nil {
		return nil, fmt.Errorf("%w (create it or mark it optional)", err)
	}
	return vars, nil
}

// maskSOPS hides the values of a SOPS-encrypted Secret behind **SOPS**, as
// Flux's build does, and drops its sops metadata; values that hold an
// encrypted SOPS document (a secretGenerator built from an encrypted file)
// are masked too.
func maskSOPS(o *unstructured.Unstructured) error {
	if o.GetKind() != "Secret" || o.GetAPIVersion() != "v1" {
		return nil
	}
	whole := sops.IsEncrypted(o)
	if whole {
		unstructured.RemoveNestedField(o.Object, "sops")
	}
	encoded := base64.StdEncoding.EncodeToString([]byte(sopsMask))
	for _, field := range []string{"data", "stringData"} {
		values, found, err := unstructured.NestedMap(o.Object, field)
		if err != nil || !found {
			continue
		}
		for k, v := range values {
			s, _ := v.(string)
			plain := s
			if field == "data" {
				if d, err := base64.StdEncoding.DecodeString(s); err == nil {
					plain = string(d)
				}
			}
			if !whole && !(strings.Contains(plain, "sops") && strings.Contains(plain, "ENC[")) {
				continue
			}
			if field == "data" {
				values[k] = encoded
			} else {
				values[k] = sopsMask
			}
		}
		if err := unstructured.SetNestedMap(o.Object, values, field); err != nil {
			return err
		}
	}
	return nil
}

// printManifests writes objs as multi-document YAML.
func printManifests(f *Factory, objs []*unstructured.Unstructured) error {
	for i, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(f.Out, "---")
		}
		if _, err := f.Out.Write(b); err != nil {
			return err
		}
	}
	return nil
}
