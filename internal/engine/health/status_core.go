package health

import (
	"fmt"
	"strings"
)

// podStatus: Current when Succeeded, or Running with Ready=True; Failed when
// the pod failed or a container is in CrashLoopBackOff; InProgress otherwise.
func podStatus(f *fields, conds []condition) Result {
	phase := f.str("status.phase")
	switch phase {
	case "Succeeded":
		return current("Pod has completed successfully")
	case "Failed":
		return failed("Pod has failed%s", reasonSuffix(f.str("status.reason"), f.str("status.message")))
	}
	if name, msg := crashLooping(f); name != "" {
		return failed("Container %s is in CrashLoopBackOff%s", name, reasonSuffix("", msg))
	}
	switch phase {
	case "Running":
		if isTrue(conds, "Ready") {
			return current("Pod is Ready")
		}
		return inProgress("Pod is running but not Ready")
	case "Pending":
		if c := find(conds, "PodScheduled"); c != nil && c.Status == "False" && c.Reason == "Unschedulable" {
			return inProgress("Pod cannot be scheduled: %s", c.text())
		}
		return inProgress("Pod is pending")
	}
	return inProgress("Pod phase is %q", phase)
}

// crashLooping returns the first container waiting in CrashLoopBackOff.
func crashLooping(f *fields) (name, message string) {
	for _, path := range []string{"status.initContainerStatuses", "status.containerStatuses"} {
		for _, item := range f.list(path) {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			c := &fields{obj: m}
			if c.str("state.waiting.reason") == "CrashLoopBackOff" {
				return c.str("name"), c.str("state.waiting.message")
			}
		}
	}
	return "", ""
}

// jobStatus: Current once Complete; Failed once Failed (or FailureTarget,
// which leads to Failed); InProgress while it runs, suspended or not.
func jobStatus(f *fields, conds []condition) Result {
	parallelism := f.int("spec.parallelism", 1)
	completions := f.int("spec.completions", parallelism)
	succeeded := f.int("status.succeeded", 0)
	active := f.int("status.active", 0)
	failedPods := f.int("status.failed", 0)
	if isTrue(conds, "Complete") {
		return current("Job completed. Succeeded: %d/%d", succeeded, completions)
	}
	for _, typ := range []string{"Failed", "FailureTarget"} {
		if c := find(conds, typ); c != nil && c.Status == "True" {
			return failed("Job failed%s", reasonSuffix(c.Reason, c.Message))
		}
	}
	if isTrue(conds, "Suspended") {
		return inProgress("Job is suspended")
	}
	if !f.has("status.startTime") {
		return inProgress("Job not started")
	}
	return inProgress("Job in progress. Succeeded: %d, active: %d, failed: %d", succeeded, active, failedPods)
}

// pvcStatus: Current once Bound; Failed when Lost (its volume is gone and
// will not come back by itself).
func pvcStatus(f *fields, _ []condition) Result {
	switch phase := f.str("status.phase"); phase {
	case "Bound":
		return current("PVC is Bound")
	case "Lost":
		return failed("PVC lost its volume")
	default:
		return inProgress("PVC is not Bound. Phase: %q", phase)
	}
}

// serviceStatus follows kstatus: a Service is Current at once. A load
// balancer's address is reported but not waited for: many clusters (the
// local one included) have no load-balancer controller, and Flux does not
// wait for one either.
func serviceStatus(f *fields, _ []condition) Result {
	if f.str("spec.type") != "LoadBalancer" {
		return current("Service is ready")
	}
	var addrs []string
	for _, item := range f.list("status.loadBalancer.ingress") {
		if m, ok := item.(map[string]any); ok {
			in := &fields{obj: m}
			if a := in.str("ip") + in.str("hostname"); a != "" {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 {
		return current("Service is ready; no load balancer address yet")
	}
	return current("Service is ready. Load balancer: %s", strings.Join(addrs, ", "))
}

// pdbStatus: Current once the disruption controller reported on it and the
// budget is met.
func pdbStatus(f *fields, _ []condition) Result {
	if !f.has("status.observedGeneration") {
		return inProgress("PodDisruptionBudget status not reported yet")
	}
	healthy := f.int("status.currentHealthy", 0)
	desired := f.int("status.desiredHealthy", 0)
	if healthy < desired {
		return inProgress("Budget not met. Healthy: %d/%d", healthy, desired)
	}
	return current("Budget met. Healthy: %d/%d", healthy, desired)
}

// crdStatus: Failed when its names were refused, Current once Established.
func crdStatus(_ *fields, conds []condition) Result {
	if c := find(conds, "NamesAccepted"); c != nil && c.Status == "False" {
		return failed("CRD names not accepted: %s", c.text())
	}
	if isTrue(conds, "Established") {
		return current("CRD is established")
	}
	return inProgress("CRD is not established yet")
}

// namespaceStatus: Current while Active.
func namespaceStatus(f *fields, _ []condition) Result {
	switch phase := f.str("status.phase"); phase {
	case "", "Active":
		return current("Namespace is active")
	case "Terminating":
		return Result{Status: Terminating, Message: "Namespace is terminating"}
	default:
		return inProgress("Namespace phase is %q", phase)
	}
}

// reasonSuffix formats ": reason: message" from whichever parts are set.
func reasonSuffix(reason, message string) string {
	switch {
	case reason != "" && message != "":
		return fmt.Sprintf(": %s: %s", reason, message)
	case reason != "":
		return ": " + reason
	case message != "":
		return ": " + message
	}
	return ""
}
