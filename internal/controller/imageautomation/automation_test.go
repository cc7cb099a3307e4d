package imageautomation

import (
	"testing"

	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
)

// TestGroup checks the group's name, kinds and gates as --controllers and
// --feature-gates see them.
func TestGroup(t *testing.T) {
	c := Controller()
	if c.Name != "image-automation" || len(c.Objects) != 1 || c.Setup == nil {
		t.Fatalf("group %+v", c)
	}
	ok := manager.Options{FeatureGates: features.Values{"GitForcePushBranch": true}}
	if err := manager.CheckGates(ok, []manager.Controller{c}); err != nil {
		t.Errorf("the default of GitForcePushBranch refused: %v", err)
	}
	bad := manager.Options{FeatureGates: features.Values{"GitForcePushBranch": false}}
	if err := manager.CheckGates(bad, []manager.Controller{c}); err == nil {
		t.Error("GitForcePushBranch=false accepted, but Driftless cannot honour it")
	}
}
