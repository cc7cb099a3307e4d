package cli

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// readObject is what every Flux kind the read commands know has in common.
type readObject interface {
	client.Object
	GetConditions() []metav1.Condition
}

// readKind describes one Flux kind for get, export and describe: how to
// fetch it and what its table rows say.
type readKind struct {
	kind     string // GitRepository
	resource string // gitrepositories.source.toolkit.fluxcd.io, for -o name
	newObj   func() readObject
	newList  func() client.ObjectList
	items    func(client.ObjectList) []readObject
	// revision is what the REVISION column shows.
	revision  func(readObject) string
	suspended func(readObject) bool
	// wideHeader and wide add the -o wide columns after MESSAGE.
	wideHeader []string
	wide       func(readObject) []string
}

func gitReadKind() readKind {
	return readKind{
		kind:     sourcev1.GitRepositoryKind,
		resource: "gitrepository.source.toolkit.fluxcd.io",
		newObj:   func() readObject { return &sourcev1.GitRepository{} },
		newList:  func() client.ObjectList { return &sourcev1.GitRepositoryList{} },
		items: func(l client.ObjectList) []readObject {
			list := l.(*sourcev1.GitRepositoryList)
			out := make([]readObject, len(list.Items))
			for i := range list.Items {
				out[i] = &list.Items[i]
			}
			return out
		},
		revision: func(o readObject) string {
			if a := o.(*sourcev1.GitRepository).Status.Artifact; a != nil {
				return a.Revision
			}
			return ""
		},
		suspended:  func(o readObject) bool { return o.(*sourcev1.GitRepository).Spec.Suspend },
		wideHeader: []string{"INTERVAL", "REF", "URL"},
		wide: func(o readObject) []string {
			g := o.(*sourcev1.GitRepository)
			return []string{g.Spec.Interval.Duration.String(), gitRefString(g.Spec.Reference), g.Spec.URL}
		},
	}
}

func ksReadKind() readKind {
	return readKind{
		kind:     kustomizev1.KustomizationKind,
		resource: "kustomization.kustomize.toolkit.fluxcd.io",
		newObj:   func() readObject { return &kustomizev1.Kustomization{} },
		newList:  func() client.ObjectList { return &kustomizev1.KustomizationList{} },
		items: func(l client.ObjectList) []readObject {
			list := l.(*kustomizev1.KustomizationList)
			out := make([]readObject, len(list.Items))
			for i := range list.Items {
				out[i] = &list.Items[i]
			}
			return out
		},
		revision:   func(o readObject) string { return o.(*kustomizev1.Kustomization).Status.LastAppliedRevision },
		suspended:  func(o readObject) bool { return o.(*kustomizev1.Kustomization).Spec.Suspend },
		wideHeader: []string{"INTERVAL", "SOURCE", "PATH"},
		wide: func(o readObject) []string {
			k := o.(*kustomizev1.Kustomization)
			return []string{k.Spec.Interval.Duration.String(), sourceRefString(k), k.Spec.Path}
		},
	}
}

// gitRef renders a GitRepository reference the way Flux's flags spell it.
func gitRefString(r *sourcev1.GitRepositoryRef) string {
	if r == nil {
		return "branch:master"
	}
	switch {
	case r.Commit != "":
		return "commit:" + r.Commit
	case r.Name != "":
		return "name:" + r.Name
	case r.SemVer != "":
		return "semver:" + r.SemVer
	case r.Tag != "":
		return "tag:" + r.Tag
	case r.Branch != "":
		return "branch:" + r.Branch
	}
	return ""
}

// sourceRefString renders a Kustomization's sourceRef as Kind/[namespace/]name.
func sourceRefString(k *kustomizev1.Kustomization) string {
	ref := k.Spec.SourceRef
	if ref.Namespace != "" && ref.Namespace != k.Namespace {
		return ref.Kind + "/" + ref.Namespace + "/" + ref.Name
	}
	return ref.Kind + "/" + ref.Name
}

// readyStatus is the READY and MESSAGE columns: the Ready condition, or
// False and "waiting to be reconciled" before the controller wrote one.
func readyColumns(o readObject) (status, message string) {
	for _, c := range o.GetConditions() {
		if c.Type == meta.ReadyCondition {
			return string(c.Status), c.Message
		}
	}
	return string(metav1.ConditionFalse), "waiting to be reconciled"
}

// statusSelector is --status-selector: a condition type and the status it
// must have, both matched case-insensitively (ready=false).
type statusSelector struct{ condType, status string }

func parseStatusSelector(s string) (*statusSelector, error) {
	if s == "" {
		return nil, nil
	}
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return nil, fmt.Errorf("invalid --status-selector %q: use <condition>=<status>, for example ready=false", s)
	}
	return &statusSelector{condType: k, status: v}, nil
}

func (s *statusSelector) matches(o readObject) bool {
	if s == nil {
		return true
	}
	for _, c := range o.GetConditions() {
		if strings.EqualFold(c.Type, s.condType) {
			return strings.EqualFold(string(c.Status), s.status)
		}
	}
	// No condition yet reads as Ready=False, as in the table.
	return strings.EqualFold(s.condType, meta.ReadyCondition) && strings.EqualFold(s.status, "false")
}
