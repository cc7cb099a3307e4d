package informerstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/testkit/testcluster"
	"github.com/driftless/driftless/internal/web"
	"github.com/driftless/driftless/internal/web/informerstore"
)

var env *testcluster.Cluster

// The cluster has the CRDs installed (the default), no controllers: the
// store only reads.
func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}, &env) }

func createKustomization(t *testing.T, ns, name string) {
	t.Helper()
	ks := &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: "Kustomization"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Interval: metav1.Duration{Duration: time.Hour}, Path: "./deploy", Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
		},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		t.Fatal(err)
	}
	k := kinds.Kustomization()
	if _, err := env.Dynamic.Resource(k.GroupVersion().WithResource(k.Resource)).Namespace(ns).
		Create(context.Background(), &unstructured.Unstructured{Object: m}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func names(objs []kinds.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetNamespace()+"/"+o.GetName())
	}
	return out
}

// TestListGetSubscribe runs the store as the admin: it watches the whole
// cluster, lists typed Kustomizations, gets one, reports a change to a
// subscriber, and reads a Secret's existence without its data.
func TestListGetSubscribe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t)
	createKustomization(t, ns, "first")

	st, err := informerstore.Start(ctx, informerstore.Options{Config: env.Config})
	if err != nil {
		t.Fatal(err)
	}
	if nss, limited, _ := st.Namespaces(); limited {
		t.Errorf("the admin's store is limited to %v", nss)
	}
	objs, err := st.List(ctx, kinds.Kustomization(), ns)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(objs); !slices.Equal(got, []string{ns + "/first"}) {
		t.Fatalf("List = %v", got)
	}
	if _, ok := objs[0].(*kustomizev1.Kustomization); !ok {
		t.Fatalf("List gives a %T, want *Kustomization", objs[0])
	}
	var got kustomizev1.Kustomization
	if err := st.Get(ctx, types.NamespacedName{Namespace: ns, Name: "first"}, &got); err != nil || got.Spec.Path != "./deploy" {
		t.Fatalf("Get: %v, path %q", err, got.Spec.Path)
	}
	if err := st.Get(ctx, types.NamespacedName{Namespace: ns, Name: "nothere"}, &got); !apierrors.IsNotFound(err) {
		t.Errorf("Get of a missing object: %v, want NotFound", err)
	}

	changes := make(chan web.Change, 16)
	stop := st.Subscribe(func(c web.Change) {
		if c.Object.GetNamespace() == ns {
			select {
			case changes <- c:
			default:
			}
		}
	})
	defer stop()
	createKustomization(t, ns, "second")
	select {
	case c := <-changes:
		if c.Kind.Kind != "Kustomization" || c.Object.GetName() != "second" || c.Deleted {
			t.Errorf("change %s %s deleted=%t, want Kustomization second added", c.Kind.Kind, c.Object.GetName(), c.Deleted)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no change reported for the new Kustomization")
	}
	testcluster.Eventually(t, 10*time.Second, "List to show both", func() (bool, error) {
		objs, err := st.List(ctx, kinds.Kustomization(), "")
		return slices.Contains(names(objs), ns+"/second") && slices.Contains(names(objs), ns+"/first"), err
	})

	// A Secret: its existence, never its data.
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "token", Namespace: ns}, StringData: map[string]string{"token": "s3cr3t"}}
	if _, err := env.Kube.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var read corev1.Secret
	if err := st.Get(ctx, types.NamespacedName{Namespace: ns, Name: "token"}, &read); err != nil {
		t.Fatal(err)
	}
	if read.Name != "token" || len(read.Data) != 0 || len(read.StringData) != 0 {
		t.Errorf("Get of a Secret returned %+v, want its name and no data", read)
	}
	if err := st.Get(ctx, types.NamespacedName{Namespace: ns, Name: "nothere"}, &read); !apierrors.IsNotFound(err) {
		t.Errorf("Get of a missing Secret: %v", err)
	}
}

// TestPerNamespaceFallback runs the store as a ServiceAccount that may
// list the Flux kinds in its own namespace only: the store watches that
// namespace, says why, and shows nothing of another namespace.
func TestPerNamespaceFallback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t)
	other := env.Namespace(t)
	createKustomization(t, ns, "mine")
	createKustomization(t, other, "theirs")
	cfg := serviceAccountConfig(t, ns, "viewer")

	if _, err := informerstore.Start(ctx, informerstore.Options{Config: cfg}); err == nil ||
		!strings.Contains(err.Error(), "may not list") {
		t.Errorf("no namespace to fall back to: %v, want an error saying the user may not list cluster-wide", err)
	}
	st, err := informerstore.Start(ctx, informerstore.Options{Config: cfg, Fallback: ns, SyncTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	nss, limited, why := st.Namespaces()
	if !limited || !slices.Equal(nss, []string{ns}) || why != "you may not list cluster-wide" {
		t.Errorf("Namespaces = %v %t %q", nss, limited, why)
	}
	objs, err := st.List(ctx, kinds.Kustomization(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(objs); !slices.Equal(got, []string{ns + "/mine"}) {
		t.Errorf("List = %v, want only %s/mine", got, ns)
	}
	if objs, _ := st.List(ctx, kinds.Kustomization(), other); len(objs) != 0 {
		t.Errorf("List in %s = %v, want nothing", other, names(objs))
	}
	// Asked for a namespace it may not list, the store leaves it empty
	// rather than failing or retrying forever.
	st2, err := informerstore.Start(ctx, informerstore.Options{Config: cfg, Namespaces: []string{ns, other}, SyncTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if objs, _ := st2.List(ctx, kinds.Kustomization(), ""); !slices.Equal(names(objs), []string{ns + "/mine"}) {
		t.Errorf("List with --namespaces %s,%s = %v", ns, other, names(objs))
	}
}

// serviceAccountConfig is a rest.Config acting as a ServiceAccount of ns
// that may get, list and watch every Flux kind in ns only.
func serviceAccountConfig(t *testing.T, ns, name string) *rest.Config {
	t.Helper()
	ctx := context.Background()
	kube := env.Kube
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var rules []rbacv1.PolicyRule
	for _, k := range kinds.All() {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{k.Group}, Resources: []string{k.Resource}, Verbs: []string{"get", "list", "watch"}})
	}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
	}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expiry := int64(1800)
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(env.Config)
	cfg.BearerToken = tr.Status.Token
	return cfg
}
