package postrender

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"time"

	"helm.sh/helm/v4/pkg/postrenderer"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/kustomize"
)

// Options configures a Renderer.
type Options struct {
	// Builder runs the kustomize builds; nil is internal/engine/kustomize's
	// process-wide pool, shared with the Kustomization builds.
	Builder *kustomize.Builder

	// TempDir is where each kustomize build gets its own directory, removed
	// when the build ends; empty is os.TempDir().
	TempDir string

	// Timeout bounds each kustomize build; zero is kustomize.DefaultTimeout.
	Timeout time.Duration

	// Helm3Defaults is helm-controller's UseHelm3Defaults feature gate: an
	// unset spec.postRenderStrategy then means nohooks instead of combined.
	Helm3Defaults bool
}

// Renderer is the post-renderer of one HelmRelease, for one Helm action.
// It is a helm.sh/helm/v4/pkg/postrenderer.PostRenderer; give it to the
// action together with Strategy:
//
//	install.PostRenderer = r
//	install.PostRenderStrategy = action.PostRenderStrategy(r.Strategy())
//
// (and the same on action.Upgrade). Rollback renders nothing, it reuses a
// stored release. A Renderer keeps the context it was made with, because
// Helm's Run takes none: the builds stop when it ends.
type Renderer struct {
	ctx         context.Context
	steps       []*kustomizeStep
	labels      map[string]string // commonMetadata labels
	annotations map[string]string // commonMetadata annotations
	origin      map[string]string // the origin labels
	strategy    string
}

var _ postrenderer.PostRenderer = (*Renderer)(nil)

// New returns the post-renderer of hr's spec. It fails only on a
// postRenderStrategy that is none of nohooks, combined and separate.
func New(ctx context.Context, hr *v2.HelmRelease, o Options) (*Renderer, error) {
	strategy, err := Strategy(hr.Spec.PostRenderStrategy, o.Helm3Defaults)
	if err != nil {
		return nil, err
	}
	build := kustomize.Build
	if o.Builder != nil {
		build = o.Builder.Build
	}
	r := &Renderer{
		ctx:      ctx,
		strategy: strategy,
		origin: map[string]string{
			v2.NameLabel:      hr.Name,
			v2.NamespaceLabel: hr.Namespace,
		},
	}
	for i, pr := range hr.Spec.PostRenderers {
		if pr.Kustomize == nil {
			continue
		}
		r.steps = append(r.steps, &kustomizeStep{
			index:   i,
			spec:    pr.Kustomize.DeepCopy(),
			builder: build,
			tempDir: o.TempDir,
			timeout: o.Timeout,
		})
	}
	if cm := hr.Spec.CommonMetadata; cm != nil {
		r.labels = maps.Clone(cm.Labels)
		r.annotations = maps.Clone(cm.Annotations)
	}
	return r, nil
}

// Strategy returns the Helm post-render strategy of a
// spec.postRenderStrategy value, as the value of Helm's
// action.PostRenderStrategy, whose values are the API's: nohooks, combined
// and separate. Empty is combined, Helm 4's default, or nohooks under
// helm3Defaults (the UseHelm3Defaults gate), as Flux 2.9 does. Any other
// value is an error naming it.
//
// The type is a plain string because helm.sh/helm/v4/pkg/action imports
// controller-runtime, which no engine may (internal/layering); the
// controller converts it. The test of this package checks the values
// against Helm's constants.
func Strategy(value string, helm3Defaults bool) (string, error) {
	switch value {
	case "":
		if helm3Defaults {
			return v2.PostRenderNoHooks, nil
		}
		return v2.PostRenderCombined, nil
	case v2.PostRenderNoHooks, v2.PostRenderCombined, v2.PostRenderSeparate:
		return value, nil
	}
	return "", fmt.Errorf("spec.postRenderStrategy %q is none of %s, %s and %s",
		value, v2.PostRenderNoHooks, v2.PostRenderCombined, v2.PostRenderSeparate)
}

// Strategy is the Helm post-render strategy to set on the action beside the
// Renderer.
func (r *Renderer) Strategy() string { return r.strategy }

// Run post-renders a stream of rendered manifests: the kustomize
// post-renderers in order, then commonMetadata, then the origin labels, as
// the package documentation describes. A document that is not a Kubernetes
// object fails with ErrInvalidManifest naming it; a post-renderer that
// fails returns an *Error.
func (r *Renderer) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	objs, err := parseDocuments(rendered.Bytes())
	if err != nil {
		return nil, err
	}
	for _, step := range r.steps {
		if err := r.ctx.Err(); err != nil {
			return nil, fmt.Errorf("post-renderer %d: %w", step.index, context.Cause(r.ctx))
		}
		if objs, err = step.run(r.ctx, objs); err != nil {
			return nil, err
		}
	}
	setMetadata(objs, r.labels, r.annotations)
	setMetadata(objs, r.origin, nil)
	return writeDocuments(objs)
}
