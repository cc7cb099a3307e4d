package reconcile_test

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

// mirror is the state the steps of one pass of the toy kind share.
type mirror struct{ host string }

// Example declares a toy kind over GitRepository objects: a state type and
// two steps, the second using what the first found. A typed error names
// the condition it is about, and the skeleton marks it.
func Example() {
	kind := reconcile.Kind[*sourcev1.GitRepository, mirror]{
		Name: "Mirror",
		New:  func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		Conditions: reconcile.ConditionSet{
			NegativePolarity: []string{"FetchFailed"},
			Owned:            []string{"ArtifactInStorage"},
		},
		Plan: []reconcile.Step[*sourcev1.GitRepository, mirror]{
			{Name: "resolve", Run: func(_ context.Context, obj *sourcev1.GitRepository, p *reconcile.Pass, s *mirror) error {
				host, ok := strings.CutPrefix(obj.Spec.URL, "https://")
				if !ok {
					return reconcile.StallingOn("FetchFailed", "URLInvalid", fmt.Errorf("'%s' is not https", obj.Spec.URL))
				}
				s.host = host
				p.Delete("FetchFailed")
				return nil
			}},
			{Name: "store", Run: func(_ context.Context, _ *sourcev1.GitRepository, p *reconcile.Pass, s *mirror) error {
				p.MarkTrue("ArtifactInStorage", "Succeeded", "stored a copy of "+s.host)
				return nil
			}},
		},
	}

	scheme := runtime.NewScheme()
	_ = sourcev1.AddToScheme(scheme)
	good := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "good", Namespace: "demo"},
		Spec: sourcev1.GitRepositorySpec{URL: "https://example.com/repo"}}
	bad := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "demo"},
		Spec: sourcev1.GitRepositorySpec{URL: "ftp://example.com/repo"}}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(good, bad).WithStatusSubresource(good, bad).Build()
	r := &reconcile.Reconciler[*sourcev1.GitRepository, mirror]{Kind: kind, Client: kube}

	for _, name := range []string{"good", "bad"} {
		key := client.ObjectKey{Namespace: "demo", Name: name}
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
			fmt.Println(err)
		}
		var got sourcev1.GitRepository
		_ = kube.Get(context.Background(), key, &got)
		for _, c := range got.Status.Conditions {
			fmt.Printf("%s %s=%s %s: %s\n", name, c.Type, c.Status, c.Reason, c.Message)
		}
	}
	// Output:
	// good Ready=True Succeeded: reconciliation succeeded
	// good ArtifactInStorage=True Succeeded: stored a copy of example.com/repo
	// bad Ready=False URLInvalid: 'ftp://example.com/repo' is not https
	// bad FetchFailed=True URLInvalid: 'ftp://example.com/repo' is not https
	// bad Stalled=True URLInvalid: 'ftp://example.com/repo' is not https
}
