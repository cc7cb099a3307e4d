package scheme_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	imagev1 "github.com/driftless/driftless/api/image/v1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/scheme"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// Every reconciled kind is a meta.Object; these fail to compile otherwise.
var (
	_ meta.Object = &sourcev1.GitRepository{}
	_ meta.Object = &sourcev1.OCIRepository{}
	_ meta.Object = &sourcev1.HelmRepository{}
	_ meta.Object = &sourcev1.HelmChart{}
	_ meta.Object = &sourcev1.Bucket{}
	_ meta.Object = &kustomizev1.Kustomization{}
	_ meta.Object = &helmv2.HelmRelease{}
	_ meta.Object = &notificationv1.Receiver{}
	_ meta.Object = &imagev1.ImageRepository{}
	_ meta.Object = &imagev1.ImagePolicy{}
	_ meta.Object = &imagev1.ImageUpdateAutomation{}
	_ meta.Object = &sourceextv1beta1.ArtifactGenerator{}
)

// notObjects are the kinds of the scheme that are not meta.Object, with why.
// A new kind must join either objectCases or this map.
var notObjects = map[string]string{
	// Flux v1beta3 Provider and Alert are static objects with no status at
	// all (no conditions, observedGeneration or lastHandledReconcileAt), so
	// they cannot honestly be meta.Conditioned; Driftless adds no status
	// fields that Flux lacks.
	"notification.toolkit.fluxcd.io/v1beta3/Provider": "no status in Flux",
	"notification.toolkit.fluxcd.io/v1beta3/Alert":    "no status in Flux",
	// ExternalArtifact is written by other controllers, not reconciled.
	"source.toolkit.fluxcd.io/v1/ExternalArtifact": "not reconciled",
}

// objectCase is one reconciled kind: a fresh object, how to set its
// spec.interval and spec.suspend, and the requeue period that interval gives.
type objectCase struct {
	kind        string
	new         func() meta.Object
	setInterval func(meta.Object, time.Duration)
	setSuspend  func(meta.Object, bool)
	// requeue is what GetRequeueAfter returns once the interval is set to
	// a minute; most kinds requeue on spec.interval itself.
	requeue time.Duration
	// checkJSON, when set, replaces the checks that spec.suspend and
	// status.observedGeneration land in the JSON, for a kind that has
	// neither field in Flux.
	checkJSON func(t *testing.T, u map[string]any)
}

func duration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

var objectCases = []objectCase{
	{
		kind:        "source.toolkit.fluxcd.io/v1/GitRepository",
		new:         func() meta.Object { return &sourcev1.GitRepository{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*sourcev1.GitRepository).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*sourcev1.GitRepository).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "source.toolkit.fluxcd.io/v1/OCIRepository",
		new:         func() meta.Object { return &sourcev1.OCIRepository{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*sourcev1.OCIRepository).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*sourcev1.OCIRepository).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "source.toolkit.fluxcd.io/v1/HelmRepository",
		new:         func() meta.Object { return &sourcev1.HelmRepository{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*sourcev1.HelmRepository).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*sourcev1.HelmRepository).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "source.toolkit.fluxcd.io/v1/HelmChart",
		new:         func() meta.Object { return &sourcev1.HelmChart{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*sourcev1.HelmChart).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*sourcev1.HelmChart).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "source.toolkit.fluxcd.io/v1/Bucket",
		new:         func() meta.Object { return &sourcev1.Bucket{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*sourcev1.Bucket).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*sourcev1.Bucket).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "kustomize.toolkit.fluxcd.io/v1/Kustomization",
		new:         func() meta.Object { return &kustomizev1.Kustomization{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*kustomizev1.Kustomization).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*kustomizev1.Kustomization).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "helm.toolkit.fluxcd.io/v2/HelmRelease",
		new:         func() meta.Object { return &helmv2.HelmRelease{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*helmv2.HelmRelease).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*helmv2.HelmRelease).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "notification.toolkit.fluxcd.io/v1/Receiver",
		new:         func() meta.Object { return &notificationv1.Receiver{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*notificationv1.Receiver).Spec.Interval = duration(d) },
		setSuspend:  func(o meta.Object, s bool) { o.(*notificationv1.Receiver).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "image.toolkit.fluxcd.io/v1/ImageRepository",
		new:         func() meta.Object { return &imagev1.ImageRepository{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*imagev1.ImageRepository).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*imagev1.ImageRepository).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		// Without digest reflection Always an ImagePolicy is re-evaluated
		// only when its ImageRepository changes: spec.interval is not a
		// requeue period then, and GetRequeueAfter is zero.
		kind:        "image.toolkit.fluxcd.io/v1/ImagePolicy",
		new:         func() meta.Object { return &imagev1.ImagePolicy{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*imagev1.ImagePolicy).Spec.Interval = duration(d) },
		setSuspend:  func(o meta.Object, s bool) { o.(*imagev1.ImagePolicy).Spec.Suspend = s },
		requeue:     0,
	},
	{
		kind: "image.toolkit.fluxcd.io/v1/ImagePolicy (digest reflection Always)",
		new: func() meta.Object {
			return &imagev1.ImagePolicy{Spec: imagev1.ImagePolicySpec{DigestReflectionPolicy: imagev1.ReflectAlways}}
		},
		setInterval: func(o meta.Object, d time.Duration) { o.(*imagev1.ImagePolicy).Spec.Interval = duration(d) },
		setSuspend:  func(o meta.Object, s bool) { o.(*imagev1.ImagePolicy).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		kind:        "image.toolkit.fluxcd.io/v1/ImageUpdateAutomation",
		new:         func() meta.Object { return &imagev1.ImageUpdateAutomation{} },
		setInterval: func(o meta.Object, d time.Duration) { o.(*imagev1.ImageUpdateAutomation).Spec.Interval.Duration = d },
		setSuspend:  func(o meta.Object, s bool) { o.(*imagev1.ImageUpdateAutomation).Spec.Suspend = s },
		requeue:     time.Minute,
	},
	{
		// Flux's ArtifactGenerator has no spec.interval (it requeues
		// hourly), no spec.suspend (an annotation suspends it) and no
		// status.observedGeneration (the Ready condition carries it).
		kind:        "source.extensions.fluxcd.io/v1beta1/ArtifactGenerator",
		new:         func() meta.Object { return &sourceextv1beta1.ArtifactGenerator{} },
		setInterval: func(meta.Object, time.Duration) {},
		setSuspend: func(o meta.Object, s bool) {
			v := "enabled"
			if s {
				v = "Disabled" // Flux compares without regard to case
			}
			o.SetAnnotations(map[string]string{sourceextv1beta1.ReconcileAnnotation: v})
		},
		requeue: time.Hour,
		checkJSON: func(t *testing.T, u map[string]any) {
			if v, _, _ := unstructured.NestedString(u, "metadata", "annotations", sourceextv1beta1.ReconcileAnnotation); v != "Disabled" {
				t.Errorf("metadata.annotations[%s] = %q in the JSON, want Disabled", sourceextv1beta1.ReconcileAnnotation, v)
			}
			conds, _, _ := unstructured.NestedSlice(u, "status", "conditions")
			if len(conds) != 1 || conds[0].(map[string]any)["observedGeneration"] != int64(7) {
				t.Errorf("status.conditions = %v in the JSON, want Ready with observedGeneration 7", conds)
			}
			if _, found, _ := unstructured.NestedFieldNoCopy(u, "status", "observedGeneration"); found {
				t.Error("status.observedGeneration is in the JSON; Flux's ArtifactGenerator has no such field")
			}
		},
	},
}

// TestEveryKindIsObjectOrExcused walks the scheme so that a kind added to
// api/ must either implement meta.Object or say in notObjects why not.
func TestEveryKindIsObjectOrExcused(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range objectCases {
		covered[strings.Fields(c.kind)[0]] = true
	}
	seen := map[string]bool{}
	for gvk, typ := range s.AllKnownTypes() {
		if !strings.HasSuffix(gvk.Group, ".fluxcd.io") || strings.HasSuffix(gvk.Kind, "List") ||
			!strings.HasPrefix(typ.PkgPath(), "github.com/driftless/driftless/") {
			continue
		}
		key := gvk.GroupVersion().String() + "/" + gvk.Kind
		seen[key] = true
		obj := reflect.New(typ).Interface()
		_, isObject := obj.(meta.Object)
		switch reason, excused := notObjects[key]; {
		case excused && isObject:
			t.Errorf("%s implements meta.Object but is listed as not (%s)", key, reason)
		case excused:
		case !isObject:
			t.Errorf("%s does not implement meta.Object and says not why in notObjects", key)
		case !covered[key]:
			t.Errorf("%s implements meta.Object but has no case in objectCases", key)
		}
	}
	for key := range notObjects {
		if !seen[key] {
			t.Errorf("%s is in notObjects but not in the scheme", key)
		}
	}
	for key := range covered {
		if !seen[key] {
			t.Errorf("%s is in objectCases but not in the scheme", key)
		}
	}
}

// TestObjectAccessorsRoundTrip checks that each accessor reads back what it
// wrote and that it lands in the field Flux names, as seen in the JSON.
func TestObjectAccessorsRoundTrip(t *testing.T) {
	for _, c := range objectCases {
		t.Run(c.kind, func(t *testing.T) {
			o := c.new()
			if o.IsSuspended() {
				t.Error("a new object is suspended")
			}
			c.setSuspend(o, true)
			if !o.IsSuspended() {
				t.Error("IsSuspended is false after spec.suspend was set")
			}
			c.setInterval(o, time.Minute)
			if got := o.GetRequeueAfter(); got != c.requeue {
				t.Errorf("GetRequeueAfter = %v with spec.interval 1m, want %v", got, c.requeue)
			}
			o.SetLastHandledReconcileRequest("2024-01-02T03:04:05Z")
			if got := o.GetLastHandledReconcileRequest(); got != "2024-01-02T03:04:05Z" {
				t.Errorf("GetLastHandledReconcileRequest = %q", got)
			}
			// The conditions come first: a kind may keep its observed
			// generation on the Ready condition.
			conds := []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "Succeeded"}}
			o.SetConditions(conds)
			o.SetObservedGeneration(7)
			if got := o.GetObservedGeneration(); got != 7 {
				t.Errorf("GetObservedGeneration = %d, want 7", got)
			}
			if got := o.GetConditions(); len(got) != 1 || got[0].Type != conds[0].Type || got[0].Status != conds[0].Status || got[0].Reason != conds[0].Reason {
				t.Errorf("GetConditions = %v, want %v", got, conds)
			}

			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
			if err != nil {
				t.Fatal(err)
			}
			if c.checkJSON != nil {
				c.checkJSON(t, u)
			} else {
				if v, _, _ := unstructured.NestedBool(u, "spec", "suspend"); !v {
					t.Error("spec.suspend is not true in the JSON")
				}
				if v, _, _ := unstructured.NestedInt64(u, "status", "observedGeneration"); v != 7 {
					t.Errorf("status.observedGeneration = %d in the JSON, want 7", v)
				}
			}
			if v, _, _ := unstructured.NestedString(u, "status", "lastHandledReconcileAt"); v != "2024-01-02T03:04:05Z" {
				t.Errorf("status.lastHandledReconcileAt = %q in the JSON", v)
			}
			if v, _, _ := unstructured.NestedSlice(u, "status", "conditions"); len(v) != 1 {
				t.Errorf("status.conditions has %d entries in the JSON, want 1", len(v))
			}
		})
	}
}
