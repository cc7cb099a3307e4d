package image_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// TestCertSecretRef scans a registry that requires a client certificate
// from a private CA: refused without certSecretRef, scanned with ca.crt,
// tls.crt and tls.key, and with the deprecated caFile, certFile and
// keyFile that ImageRepository still accepts.
func TestCertSecretRef(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{ClientCert: true})
	pushTags(t, reg, "app", "1.0.0", "1.1.0")
	ns := env.Namespace(t)
	image := reg.Host + "/app"

	none := createRepo(t, ns, "none", imagev1.ImageRepositorySpec{Image: image})
	got := controllertest.WaitNotReady(t, kube, none, imagev1.ReadOperationFailedReason)
	if m := ready(got).Message; !strings.Contains(m, reg.Host) {
		t.Errorf("message %q does not name the host", m)
	}

	current := secret(t, ns, "tls", map[string][]byte{"ca.crt": reg.CAPEM, "tls.crt": reg.ClientCertPEM, "tls.key": reg.ClientKeyPEM})
	waitScanned(t, createRepo(t, ns, "current", imagev1.ImageRepositorySpec{Image: image, CertSecretRef: current}), 2)
	deprecated := secret(t, ns, "tls-old", map[string][]byte{"caFile": reg.CAPEM, "certFile": reg.ClientCertPEM, "keyFile": reg.ClientKeyPEM})
	waitScanned(t, createRepo(t, ns, "deprecated", imagev1.ImageRepositorySpec{Image: image, CertSecretRef: deprecated}), 2)
}

// TestServiceAccountPullSecrets authenticates with the imagePullSecrets of
// spec.serviceAccountName, also under a cloud provider, since credentials
// from a Secret make its workload identity unnecessary.
func TestServiceAccountPullSecrets(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{Auth: ocitest.BasicAuth})
	pushTags(t, reg, "app", "1.0.0")
	ns := env.Namespace(t)
	secret(t, ns, "other", map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"ghcr.io":{"auth":"Zmx1eDp4"}}}`)})
	secret(t, ns, "pull", map[string][]byte{".dockerconfigjson": reg.DockerConfigJSON()})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller", Namespace: ns},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "other"}, {Name: "pull"}}}
	if err := kube.Create(context.Background(), sa); err != nil {
		t.Fatal(err)
	}
	spec := imagev1.ImageRepositorySpec{Image: reg.Host + "/app", Insecure: true, ServiceAccountName: "puller"}
	waitScanned(t, createRepo(t, ns, "generic", spec), 1)
	spec.Provider = imagev1.AWSRegistryProvider
	waitScanned(t, createRepo(t, ns, "aws", spec), 1)
}

// TestProxySecretRef reaches the registry through an authenticating HTTP
// proxy named by spec.proxySecretRef.
func TestProxySecretRef(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	pushTags(t, reg, "app", "1.0.0")
	proxy := gittest.NewHTTPProxy(t, "proxy-user", "proxy-pass")
	ns := env.Namespace(t)
	ref := secret(t, ns, "proxy", map[string][]byte{"address": []byte(proxy.URL), "username": []byte("proxy-user"), "password": []byte("proxy-pass")})
	waitScanned(t, createRepo(t, ns, "app", imagev1.ImageRepositorySpec{Image: reg.Host + "/app", Insecure: true, ProxySecretRef: ref}), 1)
	if proxy.Forwarded() == 0 {
		t.Error("the proxy forwarded nothing: the controller went to the registry directly")
	}
}

// TestTokenAuth scans a registry behind the bearer token flow public
// registries use: a wrong password is AuthenticationFailed naming the
// Secret, the right one scans.
func TestTokenAuth(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{Auth: ocitest.TokenAuth})
	pushTags(t, reg, "private/app", "1.0.0")
	ns := env.Namespace(t)
	wrong := secret(t, ns, "wrong", map[string][]byte{".dockerconfigjson": []byte(
		`{"auths":{"` + reg.Host + `":{"username":"` + reg.Username + `","password":"not-the-password"}}}`)})
	obj := createRepo(t, ns, "app", imagev1.ImageRepositorySpec{Image: reg.Host + "/private/app", Insecure: true, SecretRef: wrong})
	got := controllertest.WaitNotReady(t, kube, obj, imagev1.AuthenticationFailedReason)
	if m := ready(got).Message; !strings.Contains(m, "Secret '"+ns+"/wrong'") || strings.Contains(m, reg.Password) {
		t.Errorf("message %q", m)
	}
	right := secret(t, ns, "right", map[string][]byte{".dockerconfigjson": reg.DockerConfigJSON()})
	controllertest.Update(t, kube, obj, func(o *imagev1.ImageRepository) { o.Spec.SecretRef = right })
	waitScanned(t, obj, 1)
}
