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
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// buildFlags are the flags build and diff share.
type buildFlags struct {
	path             string
	file             string
	dryRun           bool
	strictSubstitute bool
}

func (b *buildFlags) addFlags(fs *pflag.FlagSet, dryRun bool) {
	fs.StringVar(&b.path, "path", "", "local directory to build (required)")
	fs.StringVar(&b.file, "kustomization-file", "", "file holding the Kustomization, read instead of the cluster's")
	fs.BoolVar(&b.strictSubstitute, "strict-substitute", false,
		"fail when a variable without a default value is used but not set")
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
	cmd := &cobra.Command{
		Use:     "kustomization NAME --path DIR",
		Aliases: []string{"ks"},
		Short:   "Build a Kustomization's manifests from a local directory, as the controller would",
		Example: `  # Build the local ./deploy with the spec of the Kustomization "app" in the cluster
  flux build kustomization app --path ./deploy

  # Build without a cluster, from a Kustomization in a file
  flux build kustomization app --path ./deploy --kustomization-file ./app.yaml --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, objs, err := buildKustomization(cmd.Context(), f, args[0], b)
			if err != nil {
				return err
			}
			return printManifests(f, objs)
		},
	}
	b.addFlags(cmd.Flags(), true)
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

// substituteVars merges spec.postBuild.substitute over the data of the
// substituteFrom ConfigMaps and Secrets in the cluster, in Flux's order;
// optional ones that do not exist are skipped.
func substituteVars(ctx context.Context, f *Factory, ks *kustomizev1.Kustomization) (map[string]string, error) {
	pb := ks.Spec.PostBuild
	if len(pb.SubstituteFrom) == 0 {
		return pb.Substitute, nil
	}
	c, err := f.Client()
	if err != nil {
		return nil, err
	}
	var from []map[string]string
	for _, ref := range pb.SubstituteFrom {
		key := client.ObjectKey{Namespace: ks.Namespace, Name: ref.Name}
		var data map[string]string
		switch ref.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err = c.Get(ctx, key, &cm); err == nil {
				data = cm.Data
			}
		case "Secret":
			var s corev1.Secret
			if err = c.Get(ctx, key, &s); err == nil {
				data = make(map[string]string, len(s.Data))
				for k, v := range s.Data {
					data[k] = string(v)
				}
			}
		default:
			return nil, fmt.Errorf("substituteFrom %s/%s: kind must be ConfigMap or Secret", ref.Kind, ref.Name)
		}
		if apierrors.IsNotFound(err) && ref.Optional {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("substituteFrom %s %s/%s: %w (create it or mark it optional)", ref.Kind, ks.Namespace, ref.Name, err)
		}
		from = append(from, data)
	}
	return kustomize.MergeVars(pb.Substitute, from...), nil
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
