package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/driftless/driftless/localcluster/internal/kwokstage"
)

const (
	// pollInterval is how often readiness is checked while starting.
	pollInterval = 100 * time.Millisecond
	// nodeLabel marks the nodes localcluster created, with their index.
	nodeLabel = "localcluster.driftless.dev/node-index"
)

// NodeName is the name of fake node i.
func NodeName(i int) string { return "kwok-node-" + strconv.Itoa(i) }

// waitFor polls cond until it holds, ctx ends or timeout passes. Errors
// from cond are taken as "not yet"; the last one is reported on timeout.
func waitFor(ctx context.Context, what string, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); ctx.Err() != nil && cause != nil {
		return cause
	}
	if last != nil {
		return fmt.Errorf("%s: not ready after %s: %w", what, timeout, last)
	}
	return fmt.Errorf("%s: not ready after %s", what, timeout)
}

// healthClient returns an HTTP client for health endpoints on loopback that
// trusts caPEM (nil for plain HTTP).
func healthClient(caPEM []byte) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if caPEM != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: transport, Timeout: 2 * time.Second}
}

// httpOK is a readiness condition: GET url answers 200.
func httpOK(client *http.Client, url string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		return true, nil
	}
}

// apiReady is a readiness condition: the API server's /readyz answers ok.
func apiReady(cs kubernetes.Interface) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, fmt.Errorf("readyz: %w: %s", err, strings.TrimSpace(string(body)))
		}
		return strings.TrimSpace(string(body)) == "ok", nil
	}
}

// NodeObject is fake node i as localcluster creates it: annotated for KWOK,
// with its pod range, address and version.
func NodeObject(i int, kubeletVersion string) *corev1.Node {
	name := NodeName(i)
	cidr := NodePodCIDR(i)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
				nodeLabel:                strconv.Itoa(i),
			},
			Annotations: map[string]string{
				kwokstage.NodeAnnotation:           kwokstage.NodeAnnotationValue,
				kwokstage.InternalIPAnnotation:     NodeInternalIP(i),
				kwokstage.KubeletVersionAnnotation: kubeletVersion,
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}},
	}
}

// ensureNodes creates nodes 0..n-1 unless they exist, and deletes the nodes
// of an earlier run with more nodes.
func ensureNodes(ctx context.Context, cs kubernetes.Interface, n int, kubeletVersion string) error {
	for i := range n {
		_, err := cs.CoreV1().Nodes().Create(ctx, NodeObject(i, kubeletVersion), metav1.CreateOptions{FieldManager: "localcluster"})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", NodeName(i), err)
		}
	}
	existing, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: nodeLabel})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	for _, node := range existing.Items {
		if i, err := strconv.Atoi(node.Labels[nodeLabel]); err == nil && i < n {
			continue
		}
		err := cs.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete surplus node %s: %w", node.Name, err)
		}
	}
	return nil
}

// nodesReady is a readiness condition: nodes 0..n-1 are Ready and carry no
// not-ready or unreachable taint, so pods can be scheduled onto them.
func nodesReady(cs kubernetes.Interface, n int) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: nodeLabel})
		if err != nil {
			return false, err
		}
		ready := 0
		var waiting []string
		for _, node := range list.Items {
			if nodeUsable(&node) {
				ready++
			} else {
				waiting = append(waiting, node.Name)
			}
		}
		if ready < n {
			slices.Sort(waiting)
			return false, fmt.Errorf("%d of %d nodes ready; waiting for %s", ready, n, strings.Join(waiting, ", "))
		}
		return true, nil
	}
}

func nodeUsable(node *corev1.Node) bool {
	for _, taint := range node.Spec.Taints {
		if taint.Key == corev1.TaintNodeNotReady || taint.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// defaultServiceAccount is a readiness condition: the default namespace's
// default ServiceAccount exists, so pods can be created there.
func defaultServiceAccount(cs kubernetes.Interface) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("default service account: %w", err)
		}
		return true, nil
	}
}
