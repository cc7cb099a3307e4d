package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// systemNamespace is where bootstrap puts the control plane and the sync.
const systemNamespace = "flux-system"

// sopsSecretName is the decryption Secret the fleet's apps Kustomization
// names in spec.decryption.secretRef.
const sopsSecretName = "sops-age"

var (
	kustomizationGVR = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	gitRepositoryGVR = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
)

// clients talk to the local cluster.
type clients struct {
	kube    kubernetes.Interface
	dynamic dynamic.Interface
}

func newClients(kubeconfig string) (*clients, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{kube: kube, dynamic: dyn}, nil
}

// createSopsSecret creates the flux-system namespace if needed and the
// decryption Secret holding the age identity under age.agekey.
func (c *clients) createSopsSecret(ctx context.Context, identity string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: systemNamespace}}
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", systemNamespace, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: sopsSecretName, Namespace: systemNamespace},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"age.agekey": []byte(identity + "\n")},
	}
	if _, err := c.kube.CoreV1().Secrets(systemNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating secret %s/%s: %w", systemNamespace, sopsSecretName, err)
	}
	return nil
}

// ksState is the readiness of one Kustomization.
type ksState struct {
	name    string // namespace/name
	ready   bool
	message string
}

// kustomizationStates lists every Kustomization with its readiness: Ready
// True for the current generation.
func (c *clients) kustomizationStates(ctx context.Context) ([]ksState, error) {
	list, err := c.dynamic.Resource(kustomizationGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var states []ksState
	for _, item := range list.Items {
		states = append(states, readiness(&item))
	}
	slices.SortFunc(states, func(a, b ksState) int { return strings.Compare(a.name, b.name) })
	return states, nil
}

func readiness(obj *unstructured.Unstructured) ksState {
	s := ksState{name: obj.GetNamespace() + "/" + obj.GetName(), message: "waiting for its first reconciliation"}
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		msg, _ := m["message"].(string)
		if msg != "" {
			s.message = msg
		}
		s.ready = m["status"] == "True" && observed == obj.GetGeneration()
	}
	return s
}

// waitReady polls the Kustomizations until every one is Ready and all of
// want exist, printing a progress line whenever the picture changes.
func (c *clients) waitReady(ctx context.Context, want []string, timeout time.Duration, progress func(string)) ([]ksState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := ""
	var states []ksState
	for {
		var err error
		states, err = c.kustomizationStates(ctx)
		if err == nil {
			line, done := summarize(states, want)
			if done {
				return states, nil
			}
			if line != last {
				progress(line)
				last = line
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("%s", last)
			}
			return states, fmt.Errorf("not every Kustomization is Ready after %s: %w", timeout, err)
		case <-tick.C:
		}
	}
}

// summarize says how many Kustomizations are Ready and why the first one
// that is not is waiting; done is true when all of want exist and all are
// Ready.
func summarize(states []ksState, want []string) (line string, done bool) {
	ready := 0
	var waiting []ksState
	seen := map[string]bool{}
	for _, s := range states {
		seen[s.name] = true
		if s.ready {
			ready++
		} else {
			waiting = append(waiting, s)
		}
	}
	total := len(states)
	for _, w := range want {
		if !seen[w] {
			total++
			waiting = append(waiting, ksState{name: w, message: "not created yet"})
		}
	}
	if len(waiting) == 0 && total > 0 {
		return "", true
	}
	line = fmt.Sprintf("waiting: %d/%d Kustomizations ready", ready, total)
	if len(waiting) > 0 {
		w := waiting[0]
		_, name, _ := strings.Cut(w.name, "/")
		line += fmt.Sprintf(" (%s: %s)", name, firstLine(w.message))
	}
	return line, false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
