package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// W6 is issue 20's "tag to cluster": a GitRepository and a Kustomization
// applying N Deployments, each marked for its own ImagePolicy and
// ImageRepository (interval 1h), and one ImageUpdateAutomation. A new tag
// of every image is pushed, then every ImageRepository is asked to scan
// (what a registry webhook Receiver does); the phase ends when every
// Deployment runs its new image and the Kustomization is Ready at the
// automation's commit. The row's note gives the commits made and when each
// hop was done for every object, from the first request: scanned, picked,
// pushed, fetched, applied.

const w6Path = "w6"

func imageGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "image.toolkit.fluxcd.io", Version: "v1", Resource: resource}
}

func w6App(i int) string { return fmt.Sprintf("app-%03d", i) }

// w6Files are n marked Deployments (no replicas: the cluster runs no pods
// for them) at tag 1.0.0 of their image on host.
func w6Files(n int, host string) map[string]string {
	files := map[string]string{}
	var res strings.Builder
	res.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for i := range n {
		app := w6App(i)
		fmt.Fprintf(&res, "  - %s.yaml\n", app)
		files[w6Path+"/"+app+".yaml"] = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 0
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
        - name: app
          image: %[2]s/bench/%[1]s:1.0.0 # {"$imagepolicy": "%[3]s:%[1]s"}
`, app, host, fleetNamespace)
	}
	files[w6Path+"/kustomization.yaml"] = res.String()
	return files
}

// w6Objects are the ImageRepository and ImagePolicy of every app and the
// one ImageUpdateAutomation.
func w6Objects(n int, host string) (repos, policies []*unstructured.Unstructured, automation *unstructured.Unstructured) {
	for i := range n {
		app := w6App(i)
		repos = append(repos, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
			"metadata": map[string]any{"name": app, "namespace": fleetNamespace},
			"spec":     map[string]any{"image": host + "/bench/" + app, "interval": "1h", "insecure": true},
		}})
		policies = append(policies, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
			"metadata": map[string]any{"name": app, "namespace": fleetNamespace},
			"spec": map[string]any{
				"imageRepositoryRef": map[string]any{"name": app},
				"policy":             map[string]any{"semver": map[string]any{"range": ">=1.0.0"}},
			},
		}})
	}
	automation = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageUpdateAutomation",
		"metadata": map[string]any{"name": "w6", "namespace": fleetNamespace},
		"spec": map[string]any{
			"interval":  "1h",
			"sourceRef": map[string]any{"kind": "GitRepository", "name": fleetSource},
			"git": map[string]any{
				"checkout": map[string]any{"ref": map[string]any{"branch": repoBranch}},
				"commit":   map[string]any{"author": map[string]any{"name": "Driftless Bench", "email": "bench@driftless.invalid"}},
				"push":     map[string]any{"branch": repoBranch},
			},
			"update": map[string]any{"path": "./" + w6Path, "strategy": "Setters"},
		},
	}}
	return repos, policies, automation
}

// pushW6Tag pushes tag of every app's image: one small image, written once
// per repository.
func pushW6Tag(ctx context.Context, host string, n int, tag string) error {
	img, err := random.Image(64, 1)
	if err != nil {
		return err
	}
	return parallel(ctx, 10, n, func(i int) error {
		ref, err := name.ParseReference(host+"/bench/"+w6App(i)+":"+tag, name.Insecure)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		return nil
	})
}

func (c config) runW6(ctx context.Context, n int) (rows []row, err error) {
	reg, err := ocitest.New(ocitest.Options{})
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	defer reg.Close()
	if err := pushW6Tag(ctx, reg.Host, n, "1.0.0"); err != nil {
		return nil, err
	}
	if c.w6Tags > 1 {
		c.logf("W6 N=%d: %d more tags in each repository", n, c.w6Tags-1)
		if err := parallel(ctx, 4, n, func(i int) error {
			return stockTags(reg.StorageDir, "bench/"+w6App(i), "1.0.0", c.w6Tags-1)
		}); err != nil {
			return nil, err
		}
	}
	e, err := c.setup(ctx, fmt.Sprintf("W6-n%d", n), w6Files(n, reg.Host))
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, 1); err != nil {
		return nil, err
	}
	ks := kustomization(0, w6Path, -1, "5m")
	if err := e.createAll(ctx, []*unstructured.Unstructured{ks}); err != nil {
		return nil, err
	}
	if err := e.ks.waitAll(ctx, keysOf([]*unstructured.Unstructured{ks}), readyAt(e.head), c.timeout); err != nil {
		return nil, err
	}

	repos, policies, automation := w6Objects(n, reg.Host)
	trackers := map[string]*tracker{}
	for _, res := range []string{"imagerepositories", "imagepolicies", "imageupdateautomations"} {
		t, err := newTracker(ctx, e.cluster.dynamic, imageGVR(res), fleetNamespace)
		if err != nil {
			return nil, err
		}
		defer t.close()
		trackers[res] = t
	}
	sources, err := newTracker(ctx, e.cluster.dynamic, gitRepositoriesGVR(), fleetNamespace)
	if err != nil {
		return nil, err
	}
	defer sources.close()
	deployments, err := newTracker(ctx, e.cluster.dynamic, deploymentsGVR(), targetNamespace(0))
	if err != nil {
		return nil, err
	}
	defer deployments.close()

	// Idle is the controller before any image object: the Kustomization
	// and its N Deployments applied, nothing scanned or stored.
	idle, err := procRSSMiB(e.ctrl.proc.PID())
	if err != nil {
		return nil, err
	}
	c.logf("W6 N=%d: image objects", n)
	if err := e.createAll(ctx, append(append(repos, policies...), automation)); err != nil {
		return nil, err
	}
	if err := trackers["imagepolicies"].waitAll(ctx, keysOf(policies), pickedTag("1.0.0"), c.timeout); err != nil {
		return nil, err
	}
	if err := trackers["imageupdateautomations"].waitAll(ctx, keysOf([]*unstructured.Unstructured{automation}), ready, c.timeout); err != nil {
		return nil, err
	}

	// The peak so far is the first scans' and picks': the tag phase may
	// or may not raise it.
	firstPeak, err := procPeakRSSMiB(e.ctrl.proc.PID())
	if err != nil {
		return nil, err
	}
	if err := pushW6Tag(ctx, reg.Host, n, "1.1.0"); err != nil {
		return nil, err
	}
	c.logf("W6 N=%d: tag", n)
	r := row{Workload: "W6", N: n, Phase: "tag", Kustomizations: 1, Objects: n}
	var hops []string
	var head string
	r, err = measure(ctx, e.subject(), r, func() error {
		start := time.Now()
		hop := func(what string) { hops = append(hops, fmt.Sprintf("%s +%.1f s", what, time.Since(start).Seconds())) }
		if err := parallel(ctx, 20, n, func(i int) error {
			return annotate(ctx, e, imageGVR("imagerepositories"), w6App(i))
		}); err != nil {
			return err
		}
		if err := trackers["imagerepositories"].waitAll(ctx, keysOf(repos), scannedTags(int64(max(c.w6Tags, 1))+1), c.timeout); err != nil {
			return err
		}
		hop("scanned")
		if err := trackers["imagepolicies"].waitAll(ctx, keysOf(policies), pickedTag("1.1.0"), c.timeout); err != nil {
			return err
		}
		hop("picked")
		if err := trackers["imageupdateautomations"].waitAll(ctx, keysOf([]*unstructured.Unstructured{automation}), pushedOtherThan(e.head, &head), c.timeout); err != nil {
			return err
		}
		hop("pushed")
		// Scans landing after that push make the automation push again:
		// what counts is its last push, read anew at every check.
		automationKey := fleetNamespace + "/" + automation.GetName()
		sourceKey := fleetNamespace + "/" + fleetSource
		lastPush := func() string {
			if o := trackers["imageupdateautomations"].get(automationKey); o != nil {
				c, _, _ := unstructured.NestedString(o.Object, "status", "lastPushCommit")
				return c
			}
			return ""
		}
		fetched := func() bool {
			src := sources.get(sourceKey)
			return src != nil && readyAt(lastPush())(src)
		}
		if err := pollUntil(ctx, c.timeout, "the GitRepository at the automation's last push", fetched); err != nil {
			return err
		}
		hop("fetched")
		var keys []string
		for i := range n {
			keys = append(keys, targetNamespace(0)+"/"+w6App(i))
		}
		ksKey := keysOf([]*unstructured.Unstructured{ks})[0]
		if err := pollUntil(ctx, c.timeout, "every Deployment on 1.1.0 and the Kustomization at the automation's last push", func() bool {
			k := e.ks.get(ksKey)
			return fetched() && k != nil && readyAt(lastPush())(k) && deployments.allReady(keys, runsTag("1.1.0"))
		}); err != nil {
			return err
		}
		head = lastPush()
		hop("applied")
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := e.saveHeap(ctx, "tag"); err != nil {
		return nil, err
	}
	commits, err := e.fleet.commitsBetween(e.head, head)
	if err != nil {
		return nil, err
	}
	r.Note = fmt.Sprintf("%d commit(s); every object %s; %d tags stored, idle RSS %.0f MiB, peak %.0f MiB above it (%.0f MiB by the end of the first scans)", commits, strings.Join(hops, ", "), n*(max(c.w6Tags, 1)+1), idle, r.PeakRSSMiB-idle, firstPeak-idle)
	return []row{r}, nil
}

// annotate sets requestedAt on the object name of gvr in the fleet's namespace.
func annotate(ctx context.Context, e *env, gvr schema.GroupVersionResource, name string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, time.Now().Format(time.RFC3339Nano))
	_, err := e.cluster.dynamic.Resource(gvr).Namespace(fleetNamespace).Patch(ctx, name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("request a scan of %s: %w", name, err)
	}
	return nil
}

func ready(o *unstructured.Unstructured) bool {
	s, _, _ := condition(o, "Ready")
	return s == "True" && observedCurrent(o)
}

// scannedTags says an ImageRepository's last scan found count tags.
func scannedTags(count int64) func(*unstructured.Unstructured) bool {
	return func(o *unstructured.Unstructured) bool {
		n, _, _ := unstructured.NestedInt64(o.Object, "status", "lastScanResult", "tagCount")
		return n == count && ready(o)
	}
}

// pickedTag says an ImagePolicy is Ready with tag as its latest.
func pickedTag(tag string) func(*unstructured.Unstructured) bool {
	return func(o *unstructured.Unstructured) bool {
		t, _, _ := unstructured.NestedString(o.Object, "status", "latestRef", "tag")
		return t == tag && ready(o)
	}
}

// pushedOtherThan says an ImageUpdateAutomation pushed a commit other than
// old, and records it in head.
func pushedOtherThan(old string, head *string) func(*unstructured.Unstructured) bool {
	return func(o *unstructured.Unstructured) bool {
		c, _, _ := unstructured.NestedString(o.Object, "status", "lastPushCommit")
		if c == "" || c == old {
			return false
		}
		*head = c
		return true
	}
}

// runsTag says a Deployment's one container runs an image of tag.
func runsTag(tag string) func(*unstructured.Unstructured) bool {
	return func(o *unstructured.Unstructured) bool {
		cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if len(cs) != 1 {
			return false
		}
		image, _ := cs[0].(map[string]any)["image"].(string)
		return strings.HasSuffix(image, ":"+tag)
	}
}

// stockTags gives repository count more tags, 0.<k/1000>.<k%1000> (below
// W6's >=1.0.0), written straight into the filesystem storage of the
// distribution registry, since pushing thousands of tags per repository
// through the API takes minutes. The registry lists a repository's tags by
// the directory names under _manifests/tags, so a stocked tag is only that
// directory: listed like any other, never pulled (no policy of W6 picks a
// 0.x tag). One inode per tag keeps 100 × 10,000 of them to about 4 GB of
// directory blocks instead of 20.
func stockTags(storage, repository, from string, count int) error {
	tags := filepath.Join(storage, "docker", "registry", "v2", "repositories", filepath.FromSlash(repository), "_manifests", "tags")
	if _, err := os.Stat(filepath.Join(tags, from, "current", "link")); err != nil {
		return fmt.Errorf("stock tags beside %s:%s: %w", repository, from, err)
	}
	for k := range count {
		if err := os.Mkdir(filepath.Join(tags, fmt.Sprintf("0.%d.%d", k/1000, k%1000)), 0o755); err != nil {
			return err
		}
	}
	return nil
}
