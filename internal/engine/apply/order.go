package apply

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// kindRank is the position of a kind in Flux's apply order. Kinds not
// listed come between the listed ones and the webhook configurations,
// which come last.
func kindRank(kind string) int {
	switch kind {
	case "CustomResourceDefinition":
		return 0
	case "Namespace":
		return 1
	case "ClusterRole":
		return 2
	case "ClusterClass":
		return 3
	case "RuntimeClass":
		return 4
	case "PriorityClass":
		return 5
	case "StorageClass":
		return 6
	case "VolumeSnapshotClass":
		return 7
	case "IngressClass":
		return 8
	case "GatewayClass":
		return 9
	case "ClusterRoleBinding":
		return 10
	case "ResourceQuota":
		return 11
	case "ServiceAccount":
		return 12
	case "Role":
		return 13
	case "RoleBinding":
		return 14
	case "ConfigMap":
		return 15
	case "Secret":
		return 16
	case "Service":
		return 17
	case "LimitRange":
		return 18
	case "Deployment":
		return 19
	case "StatefulSet":
		return 20
	case "CronJob":
		return 21
	case "PodDisruptionBudget":
		return 22
	case "MutatingWebhookConfiguration":
		return 1001
	case "ValidatingWebhookConfiguration":
		return 1002
	}
	return 1000
}

// deleteOrder returns refs sorted for deletion: the reverse of the apply
// order, so that workloads go before their namespaces and definitions.
func deleteOrder(refs []ObjectRef) []ObjectRef {
	out := append([]ObjectRef{}, refs...)
	sort.SliceStable(out, func(i, j int) bool { return lessRef(out[j], out[i]) })
	return out
}

// lessRef orders objects by kind (Flux's order, then the other kinds by
// name), group, namespace and name.
func lessRef(a, b ObjectRef) bool {
	if ra, rb := kindRank(a.Kind), kindRank(b.Kind); ra != rb {
		return ra < rb
	}
	for _, c := range [][2]string{{a.Kind, b.Kind}, {a.Group, b.Group}, {a.Namespace, b.Namespace}, {a.Name, b.Name}} {
		if c[0] != c[1] {
			return c[0] < c[1]
		}
	}
	return false
}

// Stages of an apply, in order.
const (
	stageDefinitions = iota // CRDs, Namespaces, ClusterRoles; waited for
	stageClasses            // kinds named *Class; waited for
	stageCustom             // ApplyOptions.CustomStageKinds
	stageRest               // everything else
	stageCount
)

func stageOf(gk schema.GroupKind, custom []schema.GroupKind) int {
	switch gk {
	case schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"},
		schema.GroupKind{Kind: "Namespace"},
		schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:
		return stageDefinitions
	}
	if strings.HasSuffix(gk.Kind, "Class") {
		return stageClasses
	}
	for _, c := range custom {
		if c == gk {
			return stageCustom
		}
	}
	return stageRest
}

// stages splits objs into the apply stages, each sorted in kind order.
func stages(objs []*object, custom []schema.GroupKind) [stageCount][]*object {
	var out [stageCount][]*object
	for _, o := range objs {
		s := stageOf(o.ref.GroupKind(), custom)
		out[s] = append(out[s], o)
	}
	for _, s := range out {
		sort.SliceStable(s, func(i, j int) bool { return lessRef(s[i].ref, s[j].ref) })
	}
	return out
}
