package health

import "math"

// deploymentStatus: Failed once the rollout exceeded its progress deadline;
// Current when every replica is updated, ready and available, the newest
// ReplicaSet is available and the Deployment reports Available; otherwise
// InProgress with the first count that falls short.
func deploymentStatus(f *fields, conds []condition) Result {
	if c := find(conds, "Progressing"); c != nil && c.Reason == "ProgressDeadlineExceeded" {
		return failed("Progress deadline exceeded: %s", c.text())
	}
	want := f.int("spec.replicas", 1)
	replicas := f.int("status.replicas", 0)
	updated := f.int("status.updatedReplicas", 0)
	ready := f.int("status.readyReplicas", 0)
	available := f.int("status.availableReplicas", 0)
	// Without a progress deadline the controller never reports Progressing.
	deadline := f.int("spec.progressDeadlineSeconds", math.MaxInt32)
	rolledOut := deadline == math.MaxInt32
	if c := find(conds, "Progressing"); c != nil && c.Status == "True" && c.Reason == "NewReplicaSetAvailable" {
		rolledOut = true
	}
	switch {
	case replicas < want:
		return inProgress("Replicas: %d/%d", replicas, want)
	case updated < want:
		return inProgress("Updated: %d/%d", updated, want)
	case replicas > want:
		return inProgress("Pending termination: %d", replicas-want)
	case available < updated:
		return inProgress("Available: %d/%d", available, updated)
	case ready < want:
		return inProgress("Ready: %d/%d", ready, want)
	case !rolledOut:
		return inProgress("Rollout in progress: the new ReplicaSet is not available yet")
	case !isTrue(conds, "Available"):
		return inProgress("Deployment is not Available")
	}
	return current("Deployment is available. Replicas: %d", replicas)
}

// statefulSetStatus: Current when every replica exists, is ready (and
// available) and runs the update revision; with a partition, when the
// replicas above it are updated; with the OnDelete strategy as soon as the
// controller observed the spec, since pods only change when deleted.
func statefulSetStatus(f *fields, _ []condition) Result {
	if f.str("spec.updateStrategy.type") == "OnDelete" {
		return current("StatefulSet uses the OnDelete update strategy")
	}
	want := f.int("spec.replicas", 1)
	replicas := f.int("status.replicas", 0)
	ready := f.int("status.readyReplicas", 0)
	currentReplicas := f.int("status.currentReplicas", 0)
	updated := f.int("status.updatedReplicas", 0)
	partition := f.int("spec.updateStrategy.rollingUpdate.partition", 0)
	switch {
	case replicas < want:
		return inProgress("Replicas: %d/%d", replicas, want)
	case ready < want:
		return inProgress("Ready: %d/%d", ready, want)
	case replicas > want:
		return inProgress("Pending termination: %d", replicas-want)
	}
	if f.has("status.availableReplicas") {
		if available := f.int("status.availableReplicas", 0); available < want {
			return inProgress("Available: %d/%d", available, want)
		}
	}
	if partition > 0 {
		if target := max(want-partition, 0); updated < target {
			return inProgress("Partitioned rollout: updated %d/%d", updated, target)
		}
		return current("Partitioned rollout complete. Updated: %d", updated)
	}
	if currentReplicas < want {
		return inProgress("Current: %d/%d", currentReplicas, want)
	}
	if cur, upd := f.str("status.currentRevision"), f.str("status.updateRevision"); cur != upd {
		return inProgress("Waiting for revision %s to replace %s", upd, cur)
	}
	return current("All replicas ready. Replicas: %d", replicas)
}

// daemonSetStatus: Current when every node that should run a pod runs an
// updated, available and ready one.
func daemonSetStatus(f *fields, _ []condition) Result {
	if !f.has("status.desiredNumberScheduled") {
		return inProgress("DaemonSet status not reported yet")
	}
	desired := f.int("status.desiredNumberScheduled", 0)
	scheduled := f.int("status.currentNumberScheduled", 0)
	updated := f.int("status.updatedNumberScheduled", 0)
	available := f.int("status.numberAvailable", 0)
	ready := f.int("status.numberReady", 0)
	switch {
	case scheduled < desired:
		return inProgress("Scheduled: %d/%d", scheduled, desired)
	case updated < desired:
		return inProgress("Updated: %d/%d", updated, desired)
	case available < desired:
		return inProgress("Available: %d/%d", available, desired)
	case ready < desired:
		return inProgress("Ready: %d/%d", ready, desired)
	}
	return current("All pods scheduled and available. Pods: %d", desired)
}

// replicaSetStatus: Current when every replica is labelled, available and
// ready and none is left to terminate.
func replicaSetStatus(f *fields, conds []condition) Result {
	if c := find(conds, "ReplicaFailure"); c != nil && c.Status == "True" {
		return inProgress("Replica failure: %s", c.text())
	}
	want := f.int("spec.replicas", 1)
	replicas := f.int("status.replicas", 0)
	labelled := f.int("status.fullyLabeledReplicas", 0)
	available := f.int("status.availableReplicas", 0)
	ready := f.int("status.readyReplicas", 0)
	switch {
	case labelled < want:
		return inProgress("Labelled: %d/%d", labelled, want)
	case available < want:
		return inProgress("Available: %d/%d", available, want)
	case ready < want:
		return inProgress("Ready: %d/%d", ready, want)
	case replicas > want:
		return inProgress("Pending termination: %d", replicas-want)
	}
	return current("ReplicaSet is available. Replicas: %d", replicas)
}
