package graph

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// Small constructors of the objects the tests draw.

func ks(ns, name, source string, deps ...string) *kustomizev1.Kustomization {
	k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	k.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: source}
	for _, d := range deps {
		k.Spec.DependsOn = append(k.Spec.DependsOn, depRef(d))
	}
	return k
}

func hr(ns, name string, deps ...string) *helmv2.HelmRelease {
	h := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, d := range deps {
		h.Spec.DependsOn = append(h.Spec.DependsOn, depRef(d))
	}
	return h
}

// depRef reads "name" or "namespace/name".
func depRef(d string) meta.DependencyReference {
	for i := range d {
		if d[i] == '/' {
			return meta.DependencyReference{Namespace: d[:i], Name: d[i+1:]}
		}
	}
	return meta.DependencyReference{Name: d}
}

func git(ns, name string) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func helmRepo(ns, name string) *sourcev1.HelmRepository {
	return &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func oci(ns, name string) *sourcev1.OCIRepository {
	return &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// appliedBy labels obj as applied by the Kustomization ns/name.
func appliedBy[T kinds.Object](obj T, ns, name string) T {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[kustomizev1.NameLabel], l[kustomizev1.NamespaceLabel] = name, ns
	obj.SetLabels(l)
	return obj
}

// withReady sets obj's Ready condition.
func withReady[T interface {
	kinds.Object
	meta.Conditioned
}](obj T, status metav1.ConditionStatus, reason string) T {
	obj.SetConditions(append(obj.GetConditions(), metav1.Condition{Type: meta.ReadyCondition, Status: status, Reason: reason,
		Message: reason}))
	return obj
}

func objs(in ...kinds.Object) []kinds.Object { return in }

var (
	ksGroup  = kustomizev1.GroupVersion.Group
	hrGroup  = helmv2.GroupVersion.Group
	srcGroup = sourcev1.GroupVersion.Group
)

func ksID(ns, name string) string  { return ID(ksGroup, kustomizev1.KustomizationKind, ns, name) }
func hrID(ns, name string) string  { return ID(hrGroup, helmv2.HelmReleaseKind, ns, name) }
func gitID(ns, name string) string { return ID(srcGroup, sourcev1.GitRepositoryKind, ns, name) }
