package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// bootstrapTimeout bounds `flux bootstrap git`: install, push, first sync.
const bootstrapTimeout = 5 * time.Minute

// bootstrapArgs are the arguments of `flux bootstrap git` for the demo's
// repository, as a user would type them.
func bootstrapArgs(kubeconfig, url, password string) []string {
	return []string{"bootstrap", "git",
		"--kubeconfig=" + kubeconfig,
		"--url=" + url,
		"--branch=main",
		"--path=clusters/local",
		"--username=driftless",
		"--password=" + password,
		"--allow-insecure-http",
		"--silent",
	}
}

// hasBootstrap reports whether this flux binary has `bootstrap git`.
func hasBootstrap(ctx context.Context, flux string) bool {
	cmd := exec.CommandContext(ctx, flux, "bootstrap", "git", "--help")
	out, err := cmd.CombinedOutput()
	return err == nil && strings.Contains(string(out), "--url")
}

// runBootstrap runs `flux bootstrap git`, its output indented under the
// demo's progress lines.
func runBootstrap(ctx context.Context, out io.Writer, flux, kubeconfig, url, password string) error {
	ctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, flux, bootstrapArgs(kubeconfig, url, password)...)
	// One writer for both streams: exec then copies them in one goroutine.
	w := &indenter{w: out, prefix: "  │ "}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	w.flush()
	if err != nil {
		return fmt.Errorf("flux bootstrap git: %w", err)
	}
	return nil
}

// applySync creates what `flux bootstrap git` leaves in the cluster for the
// sync (the flux-system Secret, GitRepository and Kustomization), for flux
// builds that do not have bootstrap yet.
func (c *clients) applySync(ctx context.Context, url, password string) error {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: systemNamespace, Namespace: systemNamespace},
		Data:       map[string][]byte{"username": []byte("driftless"), "password": []byte(password)},
	}
	if _, err := c.kube.CoreV1().Secrets(systemNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating secret %s/%s: %w", systemNamespace, systemNamespace, err)
	}
	repo := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "GitRepository",
		"metadata":   map[string]any{"name": systemNamespace, "namespace": systemNamespace},
		"spec": map[string]any{
			"interval":  "1m0s",
			"url":       url,
			"ref":       map[string]any{"branch": "main"},
			"secretRef": map[string]any{"name": systemNamespace},
		},
	}}
	if _, err := c.dynamic.Resource(gitRepositoryGVR).Namespace(systemNamespace).Create(ctx, repo, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating GitRepository %s/%s: %w", systemNamespace, systemNamespace, err)
	}
	ks := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": systemNamespace, "namespace": systemNamespace},
		"spec": map[string]any{
			"interval":  "10m0s",
			"path":      "./clusters/local",
			"prune":     true,
			"sourceRef": map[string]any{"kind": "GitRepository", "name": systemNamespace},
		},
	}}
	if _, err := c.dynamic.Resource(kustomizationGVR).Namespace(systemNamespace).Create(ctx, ks, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating Kustomization %s/%s: %w", systemNamespace, systemNamespace, err)
	}
	return nil
}

// indenter prefixes every line written through it.
type indenter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (i *indenter) Write(p []byte) (int, error) {
	i.buf = append(i.buf, p...)
	for {
		n := bytes.IndexByte(i.buf, '\n')
		if n < 0 {
			return len(p), nil
		}
		fmt.Fprintf(i.w, "%s%s\n", i.prefix, i.buf[:n])
		i.buf = i.buf[n+1:]
	}
}

func (i *indenter) flush() {
	if len(i.buf) > 0 {
		fmt.Fprintf(i.w, "%s%s\n", i.prefix, i.buf)
		i.buf = nil
	}
}
