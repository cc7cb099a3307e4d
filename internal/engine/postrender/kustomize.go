package postrender

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/kustomize"
)

// The files of the temporary kustomization a post-renderer builds.
const (
	manifestFile      = "helm-output.yaml"
	kustomizationFile = "kustomization.yaml"
	kustomizationYAML = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- " + manifestFile + "\n"
)

// kustomizeStep applies one kustomize post-renderer to objs.
type kustomizeStep struct {
	index   int // in spec.postRenderers
	spec    *v2.Kustomize
	builder func(context.Context, string, kustomize.Options) (*kustomize.Result, error)
	tempDir string
	timeout time.Duration // kustomize.Options.Timeout; 0 is its default
}

// run builds the kustomization of the step over objs. A failure is an
// *Error naming the post-renderer and, when one patch alone fails, that
// patch and its target.
func (s *kustomizeStep) run(ctx context.Context, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if len(s.spec.Patches) == 0 && len(s.spec.Images) == 0 {
		return objs, nil
	}
	if err := checkDuplicates(objs); err != nil {
		return nil, &Error{Renderer: s.index, Patch: -1, Err: err}
	}
	manifests, err := writeDocuments(objs)
	if err != nil {
		return nil, &Error{Renderer: s.index, Patch: -1, Err: err}
	}
	dir, err := os.MkdirTemp(s.tempDir, "postrender-")
	if err != nil {
		return nil, &Error{Renderer: s.index, Patch: -1, Err: fmt.Errorf("creating the build directory: %w", err)}
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, manifestFile), manifests.Bytes(), 0o600); err != nil {
		return nil, &Error{Renderer: s.index, Patch: -1, Err: fmt.Errorf("writing the manifests: %w", err)}
	}
	if err := os.WriteFile(filepath.Join(dir, kustomizationFile), []byte(kustomizationYAML), 0o600); err != nil {
		return nil, &Error{Renderer: s.index, Patch: -1, Err: fmt.Errorf("writing the kustomization: %w", err)}
	}
	size := int64(manifests.Len()) + 1
	res, err := s.build(ctx, dir, size, s.spec.Patches, s.spec.Images)
	if err != nil {
		return nil, s.diagnose(ctx, dir, size, err)
	}
	return res.Objects, nil
}

// build runs one kustomize build of dir with the given patches and images.
func (s *kustomizeStep) build(ctx context.Context, dir string, size int64, patches []meta.Patch, images []meta.Image) (*kustomize.Result, error) {
	return s.builder(ctx, dir, kustomize.Options{
		Patches:       patches,
		Images:        images,
		NoRemoteBases: true,
		MaxFileSize:   max(size, kustomize.DefaultMaxFileSize),
		Timeout:       s.timeout,
	})
}

// diagnose turns a failed build into an *Error. When the post-renderer has
// patches and the manifests build without them, it builds again with the
// first patch, the first two, and so on, until a build fails, to name the
// patch that does not apply; those builds run only on this failure path.
// When every prefix of the patches applies, the images are to blame.
func (s *kustomizeStep) diagnose(ctx context.Context, dir string, size int64, buildErr error) error {
	if ctx.Err() != nil || len(s.spec.Patches) == 0 {
		return &Error{Renderer: s.index, Patch: -1, Err: buildErr}
	}
	if _, err := s.build(ctx, dir, size, nil, nil); err != nil {
		return &Error{Renderer: s.index, Patch: -1, Err: buildErr}
	}
	for i := range s.spec.Patches {
		_, err := s.build(ctx, dir, size, s.spec.Patches[:i+1], nil)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			return &Error{Renderer: s.index, Patch: i, Target: patchTarget(s.spec.Patches[i]), Err: err}
		}
	}
	return &Error{Renderer: s.index, Patch: -1, Err: buildErr}
}

// patchTarget describes what a patch applies to, for messages: its
// target's fields, or for a strategic-merge patch without a target the
// object the patch names.
func patchTarget(p meta.Patch) string {
	if t := p.Target; t != nil {
		var parts []string
		for _, f := range []struct{ key, value string }{
			{"group", t.Group}, {"version", t.Version}, {"kind", t.Kind},
			{"namespace", t.Namespace}, {"name", t.Name},
			{"labelSelector", t.LabelSelector}, {"annotationSelector", t.AnnotationSelector},
		} {
			if f.value != "" {
				parts = append(parts, f.key+"="+f.value)
			}
		}
		if len(parts) == 0 {
			return "every object"
		}
		return strings.Join(parts, ", ")
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(p.Patch), &obj); err == nil && obj != nil {
		u := unstructured.Unstructured{Object: obj}
		if u.GetKind() != "" || u.GetName() != "" {
			return "no target, the patch names " + describe(&u)
		}
	}
	return "no target"
}

// checkDuplicates refuses two documents of the same object (group, kind,
// namespace and name), which kustomize refuses less clearly. Under
// postRenderStrategy combined they are typically a hook and a template of
// the same object.
func checkDuplicates(objs []*unstructured.Unstructured) error {
	type key struct{ group, kind, namespace, name string }
	seen := make(map[key]*unstructured.Unstructured, len(objs))
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		k := key{gvk.Group, gvk.Kind, obj.GetNamespace(), obj.GetName()}
		if first, ok := seen[k]; ok {
			return fmt.Errorf("%s and %s are the same object, which kustomize refuses in one stream "+
				"(a hook and a template alike go through the post-renderers apart with postRenderStrategy %s)",
				describe(first), describe(obj), v2.PostRenderSeparate)
		}
		seen[k] = obj
	}
	return nil
}
