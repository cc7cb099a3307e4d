package helmrelease_test

import (
	"context"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// remoteIdentity makes ServiceAccount name in ns, bound to role (a
// ClusterRole) in ns when role is set, and returns a kubeconfig that
// reaches the test API server as it, with an inline token: the "remote
// cluster" is the same cluster, reached as another identity.
func remoteIdentity(t *testing.T, ns, name, role string, user func(*clientcmdapi.AuthInfo)) []byte {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := kube.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	if role != "" {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}}}
		if err := kube.Create(ctx, rb); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := env.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	auth := &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	if user != nil {
		user(auth)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["remote"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos["tenant"] = auth
	cfg.Contexts["remote"] = &clientcmdapi.Context{Cluster: "remote", AuthInfo: "tenant"}
	cfg.CurrentContext = "remote"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// kubeconfigSecret stores kubeconfig under key in Secret name.
func kubeconfigSecret(t *testing.T, ns, name, key string, kubeconfig []byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{key: kubeconfig}}
	if err := kube.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func viaKubeconfig(secret string) func(*helmv2.HelmRelease) {
	return func(hr *helmv2.HelmRelease) {
		hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret}}
	}
}

// TestKubeConfigRemoteCluster installs, upgrades and uninstalls through a
// kubeconfig Secret whose identity may act in the namespace only; the
// release records live where that identity writes them. A kubeconfig of
// an identity without rights fails naming that identity: the release is
// made as the kubeconfig's identity, not as the controller.
func TestKubeConfigRemoteCluster(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	kubeconfigSecret(t, ns, "remote", "value.yaml", remoteIdentity(t, ns, "remote-deployer", "admin", nil))
	hr := release(t, ns, "far", "app", `{"message":"far away"}`, viaKubeconfig("remote"))
	controllertest.WaitReady(t, kube, hr)
	cm, err := configMap(t, ns, "far-app")
	if err != nil || cm.Data["message"] != "far away" {
		t.Fatalf("not released through the kubeconfig: %+v %v", cm, err)
	}
	if list := helmList(t, ns); len(list) != 1 || list[0]["name"] != "far" {
		t.Errorf("helm list %v: the release records are not in the remote cluster's namespace", list)
	}

	controllertest.Patch(t, kube, hr, `{"spec":{"values":{"message":"further"}}}`)
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 2", func(o *helmv2.HelmRelease) bool {
		return len(o.Status.History) > 0 && o.Status.History[0].Version == 2 && reconcile.IsTrue(o, meta.ReadyCondition)
	})
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Released = %+v", c)
	}
	if cm, err := configMap(t, ns, "far-app"); err != nil || cm.Data["message"] != "further" {
		t.Errorf("upgrade not applied through the kubeconfig: %+v %v", cm, err)
	}

	// An identity without rights: the failure names it.
	kubeconfigSecret(t, ns, "powerless", "value", remoteIdentity(t, ns, "remote-nobody", "", nil))
	weak := release(t, ns, "weak", "app", "", viaKubeconfig("powerless"))
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(weak), "refused as remote-nobody", func(o *helmv2.HelmRelease) bool {
		c := reconcile.Get(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "system:serviceaccount:"+ns+":remote-nobody")
	})

	if err := kube.Delete(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	waitGone(t, hr)
	if _, err := configMap(t, ns, "far-app"); !apierrors.IsNotFound(err) {
		t.Errorf("deletion did not uninstall through the kubeconfig: %v", err)
	}
}

// waitGone waits until the HelmRelease is deleted (its finalizer done).
func waitGone(t *testing.T, hr *helmv2.HelmRelease) {
	t.Helper()
	err := testcluster.Poll(controllertest.Timeout, func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(hr), &helmv2.HelmRelease{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("HelmRelease %s/%s not deleted: %v", hr.Namespace, hr.Name, err)
	}
}

// A kubeconfig that would read the controller's files or run its programs
// is refused naming the field, nothing is installed, and the HelmRelease
// can still be deleted.
func TestKubeConfigReadingControllerFilesIsRefused(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	for _, tc := range []struct {
		name, field string
		user        func(*clientcmdapi.AuthInfo)
	}{
		{"token-file", "'tokenFile'", func(a *clientcmdapi.AuthInfo) {
			a.Token, a.TokenFile = "", "/var/run/secrets/kubernetes.io/serviceaccount/token"
		}},
		{"exec", "exec plugin", func(a *clientcmdapi.AuthInfo) {
			a.Exec = &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "/bin/sh",
				Args: []string{"-c", "cat /etc/passwd"}, InteractiveMode: clientcmdapi.NeverExecInteractiveMode}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kubeconfigSecret(t, ns, tc.name, "value", remoteIdentity(t, ns, "sa-"+tc.name, "admin", tc.user))
			hr := release(t, ns, tc.name, "app", "", viaKubeconfig(tc.name))
			got := controllertest.WaitNotReady(t, kube, hr, helmv2.InitFailedReason)
			c := condition(got, meta.ReadyCondition)
			if !reconcile.IsTrue(got, meta.StalledCondition) || !strings.Contains(c.Message, tc.field) ||
				!strings.Contains(c.Message, "kubeconfig secret '"+ns+"/"+tc.name+"'") {
				t.Errorf("Ready = %+v, want a stall naming %s and the Secret", c, tc.field)
			}
			if _, err := configMap(t, ns, tc.name+"-app"); !apierrors.IsNotFound(err) {
				t.Errorf("released despite the refused kubeconfig: %v", err)
			}
			if err := kube.Delete(context.Background(), hr); err != nil {
				t.Fatal(err)
			}
			waitGone(t, hr)
		})
	}
	if list := helmList(t, ns); len(list) != 0 {
		t.Errorf("releases made: %v", list)
	}
}
