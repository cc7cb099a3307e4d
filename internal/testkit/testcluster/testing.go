package testcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Main starts a cluster for a test package, stores it in *env, runs the
// tests and stops the cluster. Call it from TestMain.
func Main(m *testing.M, opts Options, env **Cluster) {
	os.Exit(run(m, opts, env))
}

func run(m *testing.M, opts Options, env **Cluster) int {
	start := time.Now()
	c, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "testcluster: cluster ready in %s (data in %s)\n", time.Since(start).Round(100*time.Millisecond), c.DataDir())
	*env = c
	teardown := func() {}
	if opts.Setup != nil {
		if teardown, err = opts.Setup(c); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: setup: %v\n", err)
			_ = c.Stop()
			return 1
		}
	}
	code := m.Run()
	teardown()
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a fresh namespace for the test and deletes it when the
// test ends. Its name starts with the test's name.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := base + "-" + hex.EncodeToString(suffix)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		if c.Running() {
			_ = c.Kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
		}
	})
	return name
}

// Eventually polls cond until it returns true, failing the test when timeout
// passes first. An error from cond is remembered and reported on timeout, not
// treated as final: the state it reads may still be on its way.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	if err := Poll(timeout, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// Poll is Eventually without a testing.TB: it returns an error on timeout.
func Poll(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	interval := 20 * time.Millisecond
	var lastErr error
	for {
		ok, err := cond()
		if ok && err == nil {
			return nil
		}
		lastErr = err
		if time.Now().After(deadline) {
			if lastErr != nil {
				return fmt.Errorf("not true after %s; last error: %w", timeout, lastErr)
			}
			return fmt.Errorf("not true after %s", timeout)
		}
		time.Sleep(interval)
		if interval < 250*time.Millisecond {
			interval *= 2
		}
	}
}

// ReadRepoFile returns the file at path, slash-separated and relative to
// the repository's root (a mission example, a SOPS test key), failing t
// when it cannot be read.
func ReadRepoFile(t testing.TB, path string) []byte {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// WaitAllowed waits (30 s at most) until the API server's authorizer says
// that user, in groups, may verb resource of group in namespace. A Role or
// RoleBinding created a moment ago reaches the authorizer through its own
// watch, so a request made right after the create may still be refused.
func (c *Cluster) WaitAllowed(t testing.TB, user string, groups []string, verb, group, resource, namespace string) {
	t.Helper()
	Eventually(t, 30*time.Second, fmt.Sprintf("the authorizer to let %s %s %s in %s", user, verb, resource, namespace), func() (bool, error) {
		review, err := c.Kube.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Namespace: namespace}},
		}, metav1.CreateOptions{})
		return err == nil && review.Status.Allowed, err
	})
}
