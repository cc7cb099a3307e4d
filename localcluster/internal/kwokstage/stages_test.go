package kwokstage

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/config"
	"sigs.k8s.io/kwok/pkg/utils/gotpl"
	"sigs.k8s.io/kwok/pkg/utils/lifecycle"
)

// load parses Config() the way KWOK does and returns its stages by kind.
func load(t *testing.T) map[string]lifecycle.Lifecycle {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kwok.yaml")
	if err := os.WriteFile(path, Config(), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := config.Load(context.Background(), path)
	if err != nil {
		t.Fatalf("KWOK cannot load the configuration: %v", err)
	}
	confs := config.FilterWithType[*internalversion.KwokConfiguration](objs)
	if len(confs) != 1 || confs[0].Options.PodPlayStageParallelism != 16 {
		t.Errorf("KwokConfiguration not loaded: %+v", confs)
	}
	byKind := map[string][]*internalversion.Stage{}
	for _, s := range config.FilterWithType[*internalversion.Stage](objs) {
		byKind[s.Spec.ResourceRef.Kind] = append(byKind[s.Spec.ResourceRef.Kind], s)
	}
	if len(byKind["Node"]) != 2 || len(byKind["Pod"]) != 5 {
		t.Fatalf("stages loaded: %d node, %d pod; want 2 and 5", len(byKind["Node"]), len(byKind["Pod"]))
	}
	out := map[string]lifecycle.Lifecycle{}
	for kind, stages := range byKind {
		lc, err := lifecycle.NewLifecycle(stages)
		if err != nil {
			t.Fatalf("%s lifecycle: %v", kind, err)
		}
		out[kind] = lc
	}
	return out
}

// outcome is what playing a stage did.
type outcome struct {
	stage   string
	patch   []byte
	deleted bool
}

// play matches obj against lc and runs the matched stage's steps with
// stand-ins for KWOK's per-node address functions.
func play(t *testing.T, lc lifecycle.Lifecycle, obj metav1.Object) *outcome {
	t.Helper()
	ctx := context.Background()
	stage, err := lc.Match(ctx, &lifecycle.Event{Labels: obj.GetLabels(), Annotations: obj.GetAnnotations(), Data: obj})
	if err != nil {
		t.Fatalf("match: %v", err)
	}
	if stage == nil {
		return nil
	}
	renderer := gotpl.NewRenderer(gotpl.FuncMap{
		"NodeIPsWith": func(string) []string { return []string{"172.18.0.2"} },
		"PodIPsWith": func(node string, hostNetwork bool, uid, name, namespace string) ([]string, error) {
			return []string{"10.128.0.7"}, nil
		},
		"NodeName": func() string { return "unused" },
	})
	out := &outcome{stage: stage.Name()}
	_, err = stage.DoSteps(0, obj.GetFinalizers(), obj, renderer,
		func(*internalversion.StageEvent) error { return nil },
		func() error { out.deleted = true; return nil },
		func(p *lifecycle.Patch) error { out.patch = p.Data; return nil },
		func(*lifecycle.Apply) error { return nil })
	if err != nil {
		t.Fatalf("stage %s: %v", stage.Name(), err)
	}
	return out
}

func TestNodeBecomesReady(t *testing.T) {
	lcs := load(t)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: "kwok-node-0", UID: "uid-1",
		Annotations: map[string]string{NodeAnnotation: NodeAnnotationValue, InternalIPAnnotation: "172.18.0.2", KubeletVersionAnnotation: "v1.36.3"},
	}}
	got := play(t, lcs["Node"], node)
	if got == nil || got.stage != "localcluster-node-ready" {
		t.Fatalf("stage = %+v, want localcluster-node-ready", got)
	}
	var patched corev1.Node
	if err := json.Unmarshal(got.patch, &patched); err != nil {
		t.Fatalf("patch %s: %v", got.patch, err)
	}
	st := patched.Status
	if cond := condition(st.Conditions, corev1.NodeReady); cond == nil || cond.Status != corev1.ConditionTrue {
		t.Errorf("Ready condition = %+v", cond)
	}
	if len(st.Addresses) == 0 || st.Addresses[0].Type != corev1.NodeInternalIP || st.Addresses[0].Address != "172.18.0.2" {
		t.Errorf("addresses = %+v", st.Addresses)
	}
	if pods := st.Allocatable[corev1.ResourcePods]; pods.Cmp(resource.MustParse("10000")) < 0 {
		t.Errorf("allocatable pods = %s, want thousands", pods.String())
	}
	if st.NodeInfo.KubeletVersion != "v1.36.3" || st.Phase != corev1.NodeRunning {
		t.Errorf("nodeInfo = %+v, phase %s", st.NodeInfo, st.Phase)
	}

	// A Ready node only renews its heartbeat, keeping transition times.
	node.Status = st
	since := metav1.NewTime(metav1.Now().Add(-3600e9)).Rfc3339Copy()
	for i := range node.Status.Conditions {
		node.Status.Conditions[i].LastTransitionTime = since
	}
	got = play(t, lcs["Node"], node)
	if got == nil || got.stage != "localcluster-node-heartbeat" {
		t.Fatalf("stage for a Ready node = %+v, want localcluster-node-heartbeat", got)
	}
	var beat corev1.Node
	if err := json.Unmarshal(got.patch, &beat); err != nil {
		t.Fatalf("patch %s: %v", got.patch, err)
	}
	cond := condition(beat.Status.Conditions, corev1.NodeReady)
	if cond == nil || !cond.LastTransitionTime.Equal(&since) || !cond.LastHeartbeatTime.After(since.Time) {
		t.Errorf("heartbeat Ready condition = %+v, want transition %s kept and a new heartbeat", cond, since)
	}
}

func condition[T ~string, C corev1.NodeCondition | corev1.PodCondition](conds []C, typ T) *C {
	for i := range conds {
		var got string
		switch c := any(conds[i]).(type) {
		case corev1.NodeCondition:
			got = string(c.Type)
		case corev1.PodCondition:
			got = string(c.Type)
		}
		if got == string(typ) {
			return &conds[i]
		}
	}
	return nil
}

func pod(restart corev1.RestartPolicy) *corev1.Pod {
	always := corev1.ContainerRestartPolicyAlways
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-p"},
		Spec: corev1.PodSpec{
			NodeName:       "kwok-node-0",
			RestartPolicy:  restart,
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}, {Name: "sidecar", Image: "proxy", RestartPolicy: &always}},
			Containers:     []corev1.Container{{Name: "app", Image: "nginx"}, {Name: "log", Image: "fluent"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

func TestPodLifecycle(t *testing.T) {
	lcs := load(t)
	p := pod(corev1.RestartPolicyAlways)
	got := play(t, lcs["Pod"], p)
	if got == nil || got.stage != "localcluster-pod-running" {
		t.Fatalf("stage for a pending pod = %+v", got)
	}
	var running corev1.Pod
	if err := json.Unmarshal(got.patch, &running); err != nil {
		t.Fatalf("patch %s: %v", got.patch, err)
	}
	st := running.Status
	if st.Phase != corev1.PodRunning || st.PodIP != "10.128.0.7" || st.HostIP != "172.18.0.2" {
		t.Errorf("status = phase %s podIP %s hostIP %s", st.Phase, st.PodIP, st.HostIP)
	}
	if cond := condition(st.Conditions, corev1.PodReady); cond == nil || cond.Status != corev1.ConditionTrue {
		t.Errorf("Ready condition = %+v", cond)
	}
	if len(st.ContainerStatuses) != 2 || !st.ContainerStatuses[1].Ready || st.ContainerStatuses[1].State.Running == nil {
		t.Errorf("container statuses = %+v", st.ContainerStatuses)
	}
	if len(st.InitContainerStatuses) != 2 || st.InitContainerStatuses[0].State.Terminated == nil || st.InitContainerStatuses[1].State.Running == nil {
		t.Errorf("init container statuses = %+v", st.InitContainerStatuses)
	}

	// A running long-lived pod stays as it is: its stage changes nothing.
	p.Status = st
	got = play(t, lcs["Pod"], p)
	if got == nil || got.stage != "localcluster-pod-keep-running" || string(got.patch) != `{"status":{"phase":"Running"}}` {
		t.Errorf("stage for a running Deployment-like pod = %+v (patch %s)", got, got.patch)
	}

	// A running pod meant to finish succeeds.
	for _, restart := range []corev1.RestartPolicy{corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure} {
		job := pod(restart)
		job.Status = st
		got := play(t, lcs["Pod"], job)
		if got == nil || got.stage != "localcluster-pod-succeeded" {
			t.Fatalf("stage for a running %s pod = %+v", restart, got)
		}
		var done corev1.Pod
		if err := json.Unmarshal(got.patch, &done); err != nil {
			t.Fatalf("patch %s: %v", got.patch, err)
		}
		if done.Status.Phase != corev1.PodSucceeded || done.Status.ContainerStatuses[0].State.Terminated == nil {
			t.Errorf("finished status = %+v", done.Status)
		}
	}

	// One annotated with a non-zero exit code fails with it; with 0 it succeeds.
	for code, want := range map[string]corev1.PodPhase{"3": corev1.PodFailed, "0": corev1.PodSucceeded} {
		job := pod(corev1.RestartPolicyNever)
		job.Annotations = map[string]string{ExitCodeAnnotation: code}
		job.Status = st
		got := play(t, lcs["Pod"], job)
		if got == nil {
			t.Fatalf("no stage for a running pod with exit code %s", code)
		}
		var done corev1.Pod
		if err := json.Unmarshal(got.patch, &done); err != nil {
			t.Fatalf("patch %s: %v", got.patch, err)
		}
		term := done.Status.ContainerStatuses[0].State.Terminated
		if done.Status.Phase != want || term == nil || fmt.Sprint(term.ExitCode) != code {
			t.Errorf("exit code %s: stage %s, phase %s, terminated %+v; want %s", code, got.stage, done.Status.Phase, term, want)
		}
	}
	// A long-lived pod ignores the annotation.
	svc := pod(corev1.RestartPolicyAlways)
	svc.Annotations = map[string]string{ExitCodeAnnotation: "1"}
	svc.Status = st
	if got := play(t, lcs["Pod"], svc); got == nil || got.stage != "localcluster-pod-keep-running" {
		t.Errorf("stage for an annotated long-lived pod = %+v", got)
	}

	// A pod being deleted is removed, whatever its phase.
	for _, phase := range []corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded} {
		gone := pod(corev1.RestartPolicyAlways)
		gone.Status.Phase = phase
		now := metav1.Now()
		gone.DeletionTimestamp = &now
		got := play(t, lcs["Pod"], gone)
		if got == nil || got.stage != "localcluster-pod-delete" || !got.deleted {
			t.Errorf("stage for a deleted %s pod = %+v", phase, got)
		}
	}
}
