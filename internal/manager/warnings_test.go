package manager

import (
	"context"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
)

func TestWarningLogDropsTheFinalizerWarningAndDedupes(t *testing.T) {
	var lines []string
	w := newWarningLog(funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{}))
	ctx := context.Background()
	finalizer := `metadata.finalizers: "finalizers.fluxcd.io": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers`
	w.HandleWarningHeaderWithContext(ctx, 299, "-", finalizer)
	w.HandleWarningHeaderWithContext(ctx, 299, "-", "policy/v1beta1 PodSecurityPolicy is deprecated")
	w.HandleWarningHeaderWithContext(ctx, 299, "-", "policy/v1beta1 PodSecurityPolicy is deprecated")
	w.HandleWarningHeaderWithContext(ctx, 299, "-", `metadata.finalizers: "example.com": prefer a domain-qualified finalizer name including a path (/)`)
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want 2 (the deprecation once, the other finalizer):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if strings.Contains(strings.Join(lines, "\n"), "fluxcd.io") {
		t.Errorf("the warning about Flux's own finalizer was logged: %v", lines)
	}
}
