package layering

import (
	"context"
	"testing"
	"time"
)

// TestModuleKeepsTheRules checks the real import graph of this module.
func TestModuleKeepsTheRules(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rules := Rules()
	pkgs, err := Load(ctx, ".", Patterns(rules)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Check(rules, pkgs) {
		t.Error(v)
	}
}
