package helmrelease

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
)

func TestHideSchemaValues(t *testing.T) {
	values := map[string]any{
		"token": "s3cr3t'quoted\"",
		"port":  float64(80),
		"count": "three",
		"sub":   map[string]any{"password": "sub-s3cr3t", "list": []any{"item-s3cr3t"}},
		"key/x": "slashed-s3cr3t",
	}
	msg := "values don't meet the specifications of the schema(s) in the following chart(s):\napp:\n" +
		`- at '/token': 's3cr3t\'quoted"' does not match pattern '^tok-'` + "\n" +
		"- at '/port': minimum: got 80, want 1,024\n" +
		"- at '/count': got string, want integer\n" +
		"- at '/key~1x': 'slashed-s3cr3t' is not valid email: missing @\n" +
		"sub:\n  - at '/password': 'sub-s3cr3t' does not match pattern 'x'\n" +
		"  - at '/list/0': 'item-s3cr3t' does not match pattern 'x'\n"
	got := hideSchemaValues(msg, values)
	for _, secret := range []string{"s3cr3t", "got 80"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q shows %q", got, secret)
		}
	}
	for _, want := range []string{
		"- at '/token': (value hidden) does not match pattern '^tok-'",
		"- at '/port': minimum: got (value hidden), want 1,024",
		"- at '/count': got string, want integer",
		"- at '/key~1x': (value hidden) is not valid email",
		"  - at '/password': (value hidden) does not match pattern 'x'",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if plain := "Helm said: 's3cr3t' without a schema line"; hideSchemaValues(plain, values) != plain {
		t.Error("a message without schema lines was changed")
	}
}

func TestActionErrorHints(t *testing.T) {
	obj := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web"}}
	obj.Spec.TargetNamespace = "prod"
	last := &helmrelease.Release{Version: 4}
	msg := actionError(fmt.Errorf("wrapped: %w", driver.ErrReleaseExists), obj, helmv2.ReleaseActionUpgrade, nil, last)
	if !strings.Contains(msg, "Secret team/sh.helm.release.v1.prod-web.v5 exists but is not a Helm release record") {
		t.Errorf("upgrade: %s", msg)
	}
	msg = actionError(driver.ErrReleaseExists, obj, helmv2.ReleaseActionInstall, nil, nil)
	if !strings.Contains(msg, "sh.helm.release.v1.prod-web.v1") {
		t.Errorf("install: %s", msg)
	}
	msg = actionError(errors.New(`create: namespaces "prod" not found`), obj, helmv2.ReleaseActionInstall, nil, nil)
	if !strings.Contains(msg, "spec.install.createNamespace: true") {
		t.Errorf("namespace: %s", msg)
	}
	obj.Spec.Install = &helmv2.Install{CreateNamespace: true}
	if msg := actionError(errors.New(`namespaces "prod" not found`), obj, helmv2.ReleaseActionInstall, nil, nil); strings.Contains(msg, "createNamespace") {
		t.Errorf("hint with createNamespace set: %s", msg)
	}
}

func TestWroteRecord(t *testing.T) {
	rec := func(s common.Status) *helmrelease.Release {
		return &helmrelease.Release{Info: &helmrelease.Info{Status: s}}
	}
	for _, tc := range []struct {
		last *helmrelease.Release
		want bool
	}{
		{nil, false},
		{rec(common.StatusDeployed), false},
		{rec(common.StatusUninstalled), false},
		{rec(common.StatusFailed), true},
		{rec(common.StatusPendingUpgrade), true},
		{rec(common.StatusPendingInstall), true},
	} {
		if got := wroteRecord(tc.last); got != tc.want {
			t.Errorf("wroteRecord(%v) = %v", tc.last, got)
		}
	}
}
