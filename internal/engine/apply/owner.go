package apply

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Owner identifies the controller that applies objects.
type Owner struct {
	// Field is the field manager of server-side apply, such as
	// "kustomize-controller".
	Field string
	// Group prefixes the labels and annotations the manager writes and
	// reads, such as "kustomize.toolkit.fluxcd.io".
	Group string
}

// Labels returns the ownership labels <Group>/name and <Group>/namespace
// for the object (a Kustomization) that owns the applied objects.
func (o Owner) Labels(name, namespace string) map[string]string {
	return map[string]string{o.key("name"): name, o.key("namespace"): namespace}
}

func (o Owner) key(name string) string { return o.Group + "/" + name }

// Values of the <Group>/ssa annotation.
const (
	// SSAOverride applies the object and takes over conflicting fields.
	SSAOverride = "Override"
	// SSAMerge applies the object but keeps the fields other managers own.
	SSAMerge = "Merge"
	// SSAIfNotPresent creates the object and never updates it.
	SSAIfNotPresent = "IfNotPresent"
	// SSAIgnore neither applies nor prunes the object.
	SSAIgnore = "Ignore"
)

// Annotations and labels left behind by kubectl client-side apply and by
// Flux v1; they are removed from the objects the manager applies.
const (
	lastAppliedAnnotation   = "kubectl.kubernetes.io/last-applied-configuration"
	legacyChecksumSuffix    = "checksum"
	syncChecksumAnnotation  = "fluxcd.io/sync-checksum"
	syncGarbageCollectLabel = "fluxcd.io/sync-gc-mark"
)

// metaValue returns the value of key among the annotations of obj, or else
// among its labels; "" when obj is nil or has neither.
func metaValue(obj *unstructured.Unstructured, key string) string {
	if obj == nil {
		return ""
	}
	if v, ok := obj.GetAnnotations()[key]; ok {
		return v
	}
	return obj.GetLabels()[key]
}

// anyHas tells whether one of objs has key set to value, compared without
// regard to case.
func anyHas(key, value string, objs ...*unstructured.Unstructured) bool {
	for _, o := range objs {
		if strings.EqualFold(metaValue(o, key), value) {
			return true
		}
	}
	return false
}

// skipApply tells whether the manifest or the live object opts out of
// apply: ssa: Ignore, reconcile: disabled, or ssa: IfNotPresent on an
// object that exists.
func (o Owner) skipApply(desired, live *unstructured.Unstructured) bool {
	ssa := o.key("ssa")
	switch {
	case anyHas(ssa, SSAIgnore, desired, live):
		return true
	case anyHas(o.key("reconcile"), "disabled", desired, live):
		return true
	case live != nil && anyHas(ssa, SSAIfNotPresent, desired, live):
		return true
	}
	return false
}

// skipPrune tells whether a live object opts out of deletion: prune:
// disabled, reconcile: disabled or ssa: Ignore.
func (o Owner) skipPrune(live *unstructured.Unstructured) bool {
	return anyHas(o.key("prune"), "disabled", live) ||
		anyHas(o.key("reconcile"), "disabled", live) ||
		anyHas(o.key("ssa"), SSAIgnore, live)
}

// merge tells whether the object is applied with ssa: Merge.
func (o Owner) merge(desired, live *unstructured.Unstructured) bool {
	return anyHas(o.key("ssa"), SSAMerge, desired, live)
}

// force tells whether the object asks to be recreated on immutable-field
// errors.
func (o Owner) force(desired, live *unstructured.Unstructured) bool {
	return anyHas(o.key("force"), "enabled", desired, live)
}
