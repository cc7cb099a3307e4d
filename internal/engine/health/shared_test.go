package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/engine/health"
)

// TestOwnedObjectsShareClusterInformers waits for labelled Deployments in
// two namespaces through one cluster-scope informer filtered by the owner
// label, keeps it synced between waits while idle, stops it after the idle
// timeout, and still watches per namespace for objects that are not owned.
func TestOwnedObjectsShareClusterInformers(t *testing.T) {
	const owner = "health.driftless.test/owner"
	ctx := context.Background()
	checker, cache, counter := newCheckerWith(t, nil, health.CacheOptions{OwnedSelector: owner, IdleTimeout: 2 * time.Second})
	var owned []health.ObjectRef
	var namespaces []string
	for _, name := range []string{"a", "b"} {
		ns := env.Namespace(t)
		namespaces = append(namespaces, ns)
		d := deployment("owned-"+name, 1, nil)
		d.Labels = map[string]string{owner: "yes"}
		ref := createDeployment(t, ns, d)
		ref.Owned = true
		owned = append(owned, ref)
	}
	if _, err := checker.Wait(ctx, owned, health.WaitOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("wait for owned Deployments: %v", err)
	}
	const clusterPath = "/apis/apps/v1/deployments"
	if c := counter.watches(t, clusterPath); c != 1 {
		t.Errorf("%d watch requests on %s, want 1", c, clusterPath)
	}
	for _, ns := range namespaces {
		if c := counter.count("/apis/apps/v1/namespaces/" + ns + "/deployments"); c != 0 {
			t.Errorf("%d namespaced watch requests in %s for owned objects, want 0", c, ns)
		}
	}
	if s := cache.Stats(); s.Informers != 1 || s.Subscriptions != 0 {
		t.Errorf("right after the wait: %+v, want the idle shared informer kept", s)
	}
	// The idle shared informer serves cached copies, without managed fields.
	if obj, ok := cache.Cached(deploymentsGVR, owned[0].Namespace, owned[0].Name); !ok || obj.GetName() != owned[0].Name || len(obj.GetManagedFields()) != 0 {
		t.Errorf("Cached(%s) = %v, %v: want the object without its managed fields", owned[0].Name, obj, ok)
	}
	if _, ok := cache.Cached(deploymentsGVR, owned[0].Namespace, "no-such-deployment"); ok {
		t.Error("Cached returned an object the cluster does not have")
	}

	// A second wait reuses the idle informer: no new start, no new watch.
	if _, err := checker.Wait(ctx, owned[:1], health.WaitOptions{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if s := cache.Stats(); s.Started != 1 {
		t.Errorf("second wait started another informer: %+v", s)
	}

	// An object without the owner label is watched in its namespace.
	plain := createDeployment(t, namespaces[0], deployment("plain", 1, nil))
	if _, err := checker.Wait(ctx, []health.ObjectRef{plain}, health.WaitOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("wait for a plain Deployment: %v", err)
	}
	if c := counter.watches(t, "/apis/apps/v1/namespaces/"+namespaces[0]+"/deployments"); c != 1 {
		t.Errorf("%d namespaced watch requests for the plain Deployment, want 1", c)
	}
	eventually(t, "the idle shared informer stops", func() (bool, error) { return cache.Stats().Informers == 0, nil })
}
