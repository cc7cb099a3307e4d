package health

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// rule computes the readiness of one kind once the generic checks passed.
type rule func(f *fields, conds []condition) Result

// ruleFor returns the rule of a kind with readiness rules of its own; any
// other kind is judged by its conditions alone.
func ruleFor(gk schema.GroupKind) rule {
	switch gk {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		return deploymentStatus
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		return statefulSetStatus
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}:
		return daemonSetStatus
	case schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}:
		return replicaSetStatus
	case schema.GroupKind{Kind: "Pod"}:
		return podStatus
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		return jobStatus
	case schema.GroupKind{Group: "batch", Kind: "CronJob"}:
		return alwaysCurrent
	case schema.GroupKind{Kind: "PersistentVolumeClaim"}:
		return pvcStatus
	case schema.GroupKind{Kind: "Service"}:
		return serviceStatus
	case schema.GroupKind{Group: "policy", Kind: "PodDisruptionBudget"}:
		return pdbStatus
	case schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
		return crdStatus
	case schema.GroupKind{Kind: "Namespace"}:
		return namespaceStatus
	}
	return readyCondition
}

// Status computes the readiness of an object with kstatus rules:
//
//   - an object being deleted is Terminating; nil is NotFound;
//   - status.observedGeneration behind metadata.generation is InProgress;
//   - a Reconciling=True condition is InProgress, Stalled=True is Failed;
//   - built-in kinds then follow their own rules (replicas, phases, Job and
//     CRD conditions...);
//   - any other kind is Current when Ready=True or when it has no Ready
//     condition (objects without status are Current), and InProgress while
//     Ready is False or Unknown.
//
// A status that cannot be read (a field of the wrong type) is Unknown.
func Status(obj *unstructured.Unstructured) Result {
	if obj == nil {
		return Result{Status: NotFound, Message: "object not found"}
	}
	if obj.GetDeletionTimestamp() != nil {
		return Result{Status: Terminating, Message: "object is being deleted"}
	}
	f := &fields{obj: obj.Object}
	r, conds := generic(obj.GetKind(), f)
	if f.err != nil {
		return Result{Status: Unknown, Message: "cannot read status: " + f.err.Error()}
	}
	if r != nil {
		return *r
	}
	res := ruleFor(obj.GroupVersionKind().GroupKind())(f, conds)
	if f.err != nil {
		return Result{Status: Unknown, Message: "cannot read status: " + f.err.Error()}
	}
	return res
}

// generic applies the checks every kind shares: observed generation and the
// kstatus Reconciling and Stalled conditions. It returns nil when they do not
// decide, with the conditions it read.
func generic(kind string, f *fields) (*Result, []condition) {
	conds := f.conditions()
	if f.has("status.observedGeneration") && f.has("metadata.generation") {
		gen, observed := f.int("metadata.generation", 0), f.int("status.observedGeneration", 0)
		if observed != gen {
			r := inProgress("%s generation is %d, but latest observed generation is %d", kind, gen, observed)
			return &r, conds
		}
	}
	if c := find(conds, "Reconciling"); c != nil && c.Status == "True" {
		r := inProgress("%s", c.text())
		return &r, conds
	}
	if c := find(conds, "Stalled"); c != nil && c.Status == "True" {
		r := failed("%s", c.text())
		return &r, conds
	}
	return nil, conds
}

// readyCondition is the rule for kinds without one of their own.
func readyCondition(_ *fields, conds []condition) Result {
	c := find(conds, "Ready")
	switch {
	case c == nil:
		return current("Resource is current")
	case c.Status == "True":
		if c.Message != "" {
			return current("%s", c.Message)
		}
		return current("Resource is Ready")
	}
	return inProgress("%s", c.text())
}

func alwaysCurrent(*fields, []condition) Result { return current("Resource is current") }
