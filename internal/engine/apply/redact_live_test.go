package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var secrets = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// wantRedacted checks that err is an ObjectError whose API error quotes
// each of values (so the test shows a real leak) while its message quotes
// none, yet keeps each of the parts that say what is wrong.
func wantRedacted(t *testing.T, err error, values []string, parts ...string) {
	t.Helper()
	var oe *ObjectError
	if !errors.As(err, &oe) {
		t.Fatalf("error is no ObjectError: %v", err)
	}
	for _, v := range values {
		if !strings.Contains(oe.Err.Error(), v) {
			t.Errorf("the API error does not quote %q, so the test shows nothing: %v", v, oe.Err)
		}
		if strings.Contains(err.Error(), v) {
			t.Errorf("the message leaks %q: %v", v, err)
		}
	}
	wantErr(t, err, parts...)
	t.Logf("message: %v", err)
}

// The API server quotes a value given with the wrong type: a number in
// stringData (an unquoted PIN in YAML) comes back in the error.
func TestSecretValueNotInAPIError(t *testing.T) {
	ns := env.Namespace(t)
	m := newManager(t)
	_, err := m.ApplyAll(context.Background(), objects(t, ns, `
apiVersion: v1
kind: Secret
metadata: {name: pin, namespace: NS}
stringData: {pin: 12345678, user: admin}
`), opts("apps", ns))
	wantRedacted(t, err, []string{"12345678"},
		"Secret/"+ns+"/pin: dry-run failed", ".stringData.pin: expected string, got", "Value:***")
}

// An admission policy (as a webhook may) echoes the Secret's values, the
// new ones and those already in the cluster, when it rejects an update.
func TestSecretValueNotInAdmissionError(t *testing.T) {
	ns := env.Namespace(t)
	m := newManager(t)
	ctx := context.Background()
	const manifest = `
apiVersion: v1
kind: Secret
metadata: {name: api, namespace: NS, labels: {LABELS}}
data: {token: DATA}
stringData: {extra: "multi-line\nextra-secret-value\n"}
`
	secretOf := func(labels, token string) []*unstructured.Unstructured {
		return objects(t, ns, strings.NewReplacer("LABELS", labels, "DATA", b64(token)).Replace(manifest))
	}
	mustApply(t, m, secretOf("app: api", "old-token-value-1"), opts("apps", ns))

	// Secret data is a base64 string to CEL (which cannot decode it): the
	// policy quotes the values as sent. stringData is merged into data
	// before admission.
	deny(t, ns, admissionv1.Update, `'rejected token ' + object.data.token + ', was ' + oldObject.data.token + ', extra ' + object.data.extra`)
	bad := secretOf("reject: 'yes'", "new-token-value-2")
	testcluster.Eventually(t, 30*time.Second, "the admission policy to reject the Secret", func() (bool, error) {
		_, err := env.Dynamic.Resource(secrets).Namespace(ns).Apply(ctx, "api", bad[0],
			metav1.ApplyOptions{FieldManager: "probe", Force: true, DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "rejected token") {
			return true, nil
		}
		return false, err
	})

	_, err := m.ApplyAll(ctx, bad, opts("apps", ns))
	wantRedacted(t, err, []string{b64("new-token-value-2"), b64("old-token-value-1"), b64("multi-line\nextra-secret-value\n")},
		"Secret/"+ns+"/api: dry-run failed", "denied request", "rejected token ***, was ***, extra ***")
}

// An object recreated because of an immutable field (here an immutable
// Secret whose data changes, with force enabled) is deleted, then created;
// the create can fail too.
func TestSecretValueNotInRecreateError(t *testing.T) {
	ns := env.Namespace(t)
	m := newManager(t)
	ctx := context.Background()
	const manifest = `
apiVersion: v1
kind: Secret
metadata: {name: frozen, namespace: NS, labels: {LABELS}}
immutable: true
stringData: {token: TOKEN}
`
	secretOf := func(labels, token string) []*unstructured.Unstructured {
		return objects(t, ns, strings.NewReplacer("LABELS", labels, "TOKEN", token).Replace(manifest))
	}
	mustApply(t, m, secretOf("app: api", "old-token-value-1"), opts("apps", ns))

	deny(t, ns, admissionv1.Create, `'rejected token ' + object.data.token`)
	testcluster.Eventually(t, 30*time.Second, "the admission policy to reject the Secret", func() (bool, error) {
		probe := secretOf("reject: 'yes'", "probe-token")[0]
		probe.SetName("probe")
		_, err := env.Dynamic.Resource(secrets).Namespace(ns).Apply(ctx, "probe", probe, metav1.ApplyOptions{FieldManager: "probe", Force: true, DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "rejected token") {
			return true, nil
		}
		return false, err
	})

	o := opts("apps", ns)
	o.Force = true
	_, err := m.ApplyAll(ctx, secretOf("reject: 'yes'", "new-token-value-2"), o)
	wantRedacted(t, err, []string{b64("new-token-value-2")}, "Secret/"+ns+"/frozen: apply failed", "rejected token ***")
}

// A prune that fails quotes the object already in the cluster.
func TestSecretValueNotInPruneError(t *testing.T) {
	ns := env.Namespace(t)
	m := newManager(t)
	ctx := context.Background()
	objs := objects(t, ns, `
apiVersion: v1
kind: Secret
metadata: {name: stale, namespace: NS, labels: {reject: 'yes'}}
stringData: {token: live-token-value}
`)
	mustApply(t, m, objs, opts("apps", ns))
	deny(t, ns, admissionv1.Delete, `'cannot delete, token ' + oldObject.data.token`)
	ref := RefOf(objs[0])
	testcluster.Eventually(t, 30*time.Second, "the admission policy to reject the delete", func() (bool, error) {
		err := env.Dynamic.Resource(secrets).Namespace(ns).Delete(ctx, "stale", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "cannot delete") {
			return true, nil
		}
		return false, err
	})
	_, err := m.Prune(ctx, []ObjectRef{ref}, PruneOptions{OwnerLabels: flux.Labels("apps", ns)})
	if got := FailedDeletes(err); len(got) != 1 || got[0] != ref {
		t.Errorf("failed deletes %v, want %v", got, ref)
	}
	wantRedacted(t, err, []string{b64("live-token-value")}, "Secret/"+ns+"/stale: delete failed", "cannot delete, token ***")
}

// deny installs, for the test, a ValidatingAdmissionPolicy that denies op
// on Secrets labelled reject in namespace ns with the message of
// messageExpression.
func deny(t *testing.T, ns string, op admissionv1.OperationType, messageExpression string) {
	t.Helper()
	ctx := context.Background()
	api := env.Kube.AdmissionregistrationV1()
	fail := admissionv1.Fail
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{op},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"secrets"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				// object is null on DELETE, and oldObject on CREATE.
				Expression:        "!has((object == null ? oldObject : object).metadata.labels) || !('reject' in (object == null ? oldObject : object).metadata.labels)",
				MessageExpression: messageExpression,
			}},
		},
	}
	if _, err := api.ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        ns,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
			}},
		},
	}
	if _, err := api.ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = api.ValidatingAdmissionPolicyBindings().Delete(context.Background(), ns, metav1.DeleteOptions{})
		_ = api.ValidatingAdmissionPolicies().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
}
