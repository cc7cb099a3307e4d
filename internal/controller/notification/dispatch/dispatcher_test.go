package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// The dispatcher is a manager Runnable that runs without the lease.
var (
	_ manager.Runnable               = &Dispatcher{}
	_ manager.LeaderElectionRunnable = &Dispatcher{}
)

// TestNewRequires: the config's required fields are checked.
func TestNewRequires(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Reader, Notifier and Events succeeded")
	}
}

// TestRunnable: the dispatcher runs on every replica and starts once.
func TestRunnable(t *testing.T) {
	h := newHarness(t, nil, nil, nil)
	if h.d.NeedLeaderElection() {
		t.Error("NeedLeaderElection = true, want false: every replica dispatches its own events")
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.d.Start(ended); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := h.d.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
}

// recordingIndexer records IndexField calls.
type recordingIndexer struct {
	obj     client.Object
	field   string
	extract client.IndexerFunc
}

func (r *recordingIndexer) IndexField(_ context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	r.obj, r.field, r.extract = obj, field, extract
	return nil
}

// TestIndexFields: Alerts are indexed by the distinct kinds of their
// eventSources.
func TestIndexFields(t *testing.T) {
	var idx recordingIndexer
	if err := IndexFields(context.Background(), &idx); err != nil {
		t.Fatal(err)
	}
	if _, ok := idx.obj.(*v1beta3.Alert); !ok || idx.field != AlertSourceKindField {
		t.Fatalf("indexed %T by %q", idx.obj, idx.field)
	}
	alert := alertObj("a", "p", source("Kustomization", "a"), source("GitRepository", "*"),
		notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "b", Namespace: "other"})
	got := idx.extract(alert)
	slices.Sort(got)
	if want := []string{"GitRepository", "Kustomization"}; !slices.Equal(got, want) {
		t.Errorf("index values %v, want %v", got, want)
	}
	if got := idx.extract(providerObj("p", "slack")); got != nil {
		t.Errorf("a Provider got index values %v", got)
	}
}

// TestLimiterBounded: a flood of distinct events does not grow the limiter
// past its bound; those past it pass (a possible duplicate, never a loss).
func TestLimiterBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	l := newLimiter(time.Hour, func() time.Time { return now })
	var key [sha256.Size]byte
	for i := range maxLimiterKeys + 100 {
		binary.LittleEndian.PutUint64(key[:], uint64(i))
		if !l.allow(key) {
			t.Fatalf("distinct key %d refused", i)
		}
	}
	if len(l.seen) > maxLimiterKeys {
		t.Errorf("limiter holds %d keys, bound %d", len(l.seen), maxLimiterKeys)
	}
	// Once the interval has passed, the old keys are pruned.
	now = now.Add(time.Hour)
	binary.LittleEndian.PutUint64(key[:], uint64(maxLimiterKeys+1000))
	l.allow(key)
	if len(l.seen) != 1 {
		t.Errorf("after the interval the limiter holds %d keys, want 1", len(l.seen))
	}
}
