package cli

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestCreateTenantExport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create/tenant.yaml", []string{"dev-team", "--with-namespace=frontend", "--label=environment=dev"}},
		{"create/tenant-multi.yaml", []string{"dev-team", "--with-namespace=frontend,backend", "--with-namespace=frontend",
			"--cluster-role=dev-team-reconciler", "--with-service-account=deployer"}},
		{"create/tenant-skip-namespace.yaml", []string{"dev-team", "--with-namespace=frontend", "--skip-namespace"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := runFlux(t, "", append([]string{"create", "tenant", "--export"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			compareCLIGolden(t, tc.golden, out)
		})
	}
}

func TestCreateTenantBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"dev"}, "add --with-namespace"},
		{[]string{"dev", "--with-namespace=Bad_NS"}, "invalid --with-namespace"},
		{[]string{"dev", "--with-namespace=a", "--cluster-role="}, "--cluster-role"},
		{[]string{"dev", "--with-namespace=a", "--with-service-account=Bad_SA"}, "invalid --with-service-account"},
		{[]string{"--with-namespace=a"}, "name is required"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append([]string{"create", "tenant", "--export"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestCreateTenantApply(t *testing.T) {
	ctx := context.Background()
	ns1, ns2 := env.Namespace(t), env.Namespace(t)
	_, stderr, err := runFlux(t, "", "create", "tenant", "team-a", "--with-namespace="+ns1, "--with-namespace="+ns2,
		"--cluster-role=view")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "✔ rolebinding "+ns2+"/team-a-reconciler created") {
		t.Fatalf("stderr: %s", stderr)
	}
	for _, ns := range []string{ns1, ns2} {
		var n corev1.Namespace
		if err := kube.Get(ctx, client.ObjectKey{Name: ns}, &n); err != nil || n.Labels[tenantLabel] != "team-a" {
			t.Fatalf("namespace %s: %v %v", ns, err, n.Labels)
		}
		var sa corev1.ServiceAccount
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "team-a"}, &sa); err != nil || sa.Labels[tenantLabel] != "team-a" {
			t.Fatalf("service account in %s: %v %v", ns, err, sa.Labels)
		}
		var rb rbacv1.RoleBinding
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "team-a-reconciler"}, &rb); err != nil {
			t.Fatal(err)
		}
		if rb.RoleRef.Name != "view" || len(rb.Subjects) != 2 || rb.Subjects[0].Name != "gotk:"+ns+":reconciler" ||
			rb.Subjects[1].Kind != "ServiceAccount" || rb.Subjects[1].Name != "team-a" {
			t.Fatalf("role binding in %s: %+v", ns, rb)
		}
	}
	// A second run updates in place.
	_, stderr, err = runFlux(t, "", "create", "tenant", "team-a", "--with-namespace="+ns1, "--cluster-role=view")
	if err != nil || !strings.Contains(stderr, "namespace "+ns1+" updated") {
		t.Fatalf("second run: %v\n%s", err, stderr)
	}
}
