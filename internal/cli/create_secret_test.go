package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Test files: a CA, a client certificate it signed with the client's key,
// a GitHub App (RSA) key and Notation trust policies.
var (
	testCA        = filepath.Join("testdata", "create", "certs", "ca.crt")
	testClientCrt = filepath.Join("testdata", "create", "certs", "client.crt")
	testClientKey = filepath.Join("testdata", "create", "certs", "client.key")
	testAppKey    = filepath.Join("testdata", "create", "certs", "githubapp.pem")
	testPolicy    = filepath.Join("testdata", "create", "notation", "trustpolicy.json")
)

// copyFile copies src into dir under name and returns the new path.
func copyTestFile(t *testing.T, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeTemp writes content into a new file name in a temporary directory.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// otherKey is a PEM EC private key that does not match the test client certificate.
func otherKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "other.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
}

// TestCreateSecretExport prints each secret with the flags of Flux's
// documented examples and compares it with the layout Flux writes.
func TestCreateSecretExport(t *testing.T) {
	otherPEM := copyTestFile(t, testCA, t.TempDir(), "other.pem")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"secret-tls.yaml", []string{"tls", "certs", "--namespace=my-namespace",
			"--tls-crt-file=" + testClientCrt, "--tls-key-file=" + testClientKey, "--ca-crt-file=" + testCA}},
		{"secret-tls-ca.yaml", []string{"tls", "certs", "--namespace=my-namespace", "--ca-crt-file=" + testCA, "--label=team=web"}},
		{"secret-helm.yaml", []string{"helm", "repo-auth", "--namespace=my-namespace", "--username=my-username", "--password=my-password"}},
		{"secret-helm-tls.yaml", []string{"helm", "repo-auth", "--namespace=my-namespace", "-u", "username", "-p", "password",
			"--tls-crt-file=" + testClientCrt, "--tls-key-file=" + testClientKey, "--ca-crt-file=" + testCA}},
		{"secret-oci.yaml", []string{"oci", "ghcr", "--namespace=my-namespace", "--url=ghcr.io", "--username=stefanprodan", "--password=password"}},
		{"secret-proxy.yaml", []string{"proxy", "proxy-secret", "--namespace=my-namespace", "--address=https://my-proxy.com",
			"--username=my-username", "--password=my-password"}},
		{"secret-githubapp.yaml", []string{"githubapp", "appinfo", "--namespace=my-namespace", "--app-id=1",
			"--app-installation-id=2", "--app-private-key=" + testAppKey}},
		{"secret-githubapp-owner.yaml", []string{"githubapp", "appinfo", "--namespace=my-namespace", "--app-id=1",
			"--app-installation-owner=my-org", "--app-private-key=" + testAppKey, "--app-base-url=www.example.com/api/v3"}},
		{"secret-notation.yaml", []string{"notation", "notation-config", "--namespace=my-namespace",
			"--trust-policy-file=" + testPolicy, "--ca-cert-file=" + testCA}},
		{"secret-notation-multi.yaml", []string{"notation", "notation-config", "--namespace=my-namespace",
			"--trust-policy-file=" + testPolicy, "--ca-cert-file=" + testCA, "--ca-cert-file=" + otherPEM}},
		{"secret-receiver.yaml", []string{"receiver", "receiver-secret", "--type=github", "--token=test-token",
			"--hostname=flux.example.com", "--namespace=my-namespace"}},
		{"secret-receiver-gcr.yaml", []string{"receiver", "gcr-secret", "--type=gcr", "--token=test-token",
			"--hostname=flux.example.com", "--email-claim=sa@project.iam.gserviceaccount.com", "--namespace=my-namespace"}},
		{"secret-receiver-gcr-audience.yaml", []string{"receiver", "gcr-secret", "--type=gcr", "--token=test-token",
			"--hostname=flux.example.com", "--email-claim=sa@project.iam.gserviceaccount.com",
			"--audience-claim=https://custom.audience.example.com", "--namespace=my-namespace"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := runFlux(t, "", append([]string{"create", "secret", "--export"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			compareCLIGolden(t, filepath.Join("create", tc.golden), out)
		})
	}
}

// TestCreateSecretReceiverToken checks that a token is generated when none
// is given, and that the webhook annotation is computed from it.
func TestCreateSecretReceiverToken(t *testing.T) {
	var tokens []string
	for i := 0; i < 2; i++ {
		out, _, err := runFlux(t, "", "create", "secret", "receiver", "hook", "-n", "apps", "--type=generic-hmac",
			"--hostname=flux.example.com:8443", "--export")
		if err != nil {
			t.Fatal(err)
		}
		var s corev1.Secret
		if err := yaml.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		token := s.StringData["token"]
		if len(token) < 32 {
			t.Fatalf("generated token %q is too short", token)
		}
		want := "https://flux.example.com:8443/hook/" + sha256Hex([]byte(token+"hook"+"apps"))
		if got := s.Annotations[webhookAnnotation]; got != want {
			t.Fatalf("webhook annotation %q, want %q", got, want)
		}
		tokens = append(tokens, token)
	}
	if tokens[0] == tokens[1] {
		t.Fatalf("two runs generated the same token %q", tokens[0])
	}
}

// TestCreateSecretBadInput runs each command against the cluster with input
// it must refuse: the error names the flag or file, and no Secret is written.
func TestCreateSecretBadInput(t *testing.T) {
	ns := env.Namespace(t)
	garbage := writeTemp(t, "garbage.pem", "not a certificate\n")
	p12 := copyTestFile(t, testCA, t.TempDir(), "ca.p12")
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"tls", "bad"}, "nothing to store"},
		{[]string{"tls", "bad", "--tls-crt-file=/nonexistent.crt", "--tls-key-file=" + testClientKey}, "read --tls-crt-file: open /nonexistent.crt"},
		{[]string{"tls", "bad", "--tls-crt-file=" + testClientCrt}, "--tls-crt-file and --tls-key-file must be given together"},
		{[]string{"tls", "bad", "--tls-crt-file=" + garbage, "--tls-key-file=" + garbage}, "--tls-crt-file " + garbage + " and --tls-key-file"},
		{[]string{"tls", "bad", "--tls-crt-file=" + testClientCrt, "--tls-key-file=" + otherKey(t)}, "are not a valid PEM certificate and private key"},
		{[]string{"tls", "bad", "--ca-crt-file=" + garbage}, "--ca-crt-file " + garbage + ": no PEM certificate found"},
		{[]string{"tls", "Bad_Name", "--ca-crt-file=" + testCA}, `invalid name "Bad_Name"`},
		{[]string{"helm", "bad", "-u", "user"}, "--username and --password must be given together"},
		{[]string{"helm", "bad"}, "nothing to store"},
		{[]string{"helm", "bad", "-u", "u", "-p", "p", "--ca-crt-file=/nonexistent"}, "read --ca-crt-file"},
		{[]string{"oci", "bad", "-u", "u", "-p", "p"}, "--url is required"},
		{[]string{"oci", "bad", "--url=ghcr.io", "-p", "p"}, "--username is required"},
		{[]string{"oci", "bad", "--url=https://ghcr.io", "-u", "u", "-p", "p"}, "without a scheme"},
		{[]string{"oci", "bad", "--url=ghcr.io/UPPER", "-u", "u", "-p", "p"}, `invalid --url "ghcr.io/UPPER"`},
		{[]string{"proxy", "bad"}, "--address is required"},
		{[]string{"proxy", "bad", "--address=ftp://proxy"}, `invalid --address "ftp://proxy"`},
		{[]string{"proxy", "bad", "--address=http://proxy:3128", "-p", "p"}, "must be given together"},
		{[]string{"githubapp", "bad", "--app-installation-id=2", "--app-private-key=" + testAppKey}, "--app-id is required"},
		{[]string{"githubapp", "bad", "--app-id=1", "--app-private-key=" + testAppKey}, "--app-installation-id or --app-installation-owner is required"},
		{[]string{"githubapp", "bad", "--app-id=1", "--app-installation-id=2", "--app-installation-owner=o", "--app-private-key=" + testAppKey}, "not both"},
		{[]string{"githubapp", "bad", "--app-id=1", "--app-installation-id=two", "--app-private-key=" + testAppKey}, `invalid --app-installation-id "two"`},
		{[]string{"githubapp", "bad", "--app-id=1", "--app-installation-id=2"}, "--app-private-key is required"},
		{[]string{"githubapp", "bad", "--app-id=1", "--app-installation-id=2", "--app-private-key=/nonexistent.pem"}, "read --app-private-key"},
		{[]string{"githubapp", "bad", "--app-id=1", "--app-installation-id=2", "--app-private-key=" + garbage}, "--app-private-key " + garbage + ": not a PEM private key"},
		{[]string{"notation", "bad", "--trust-policy-file=" + testPolicy}, "--ca-cert-file is required"},
		{[]string{"notation", "bad", "--ca-cert-file=" + testCA}, "--trust-policy-file is required"},
		{[]string{"notation", "bad", "--ca-cert-file=" + testCA, "--trust-policy-file=/nonexistent.json"}, "read --trust-policy-file"},
		{[]string{"notation", "bad", "--ca-cert-file=" + testCA, "--trust-policy-file=" + garbage}, "not a JSON trust policy document"},
		{[]string{"notation", "bad", "--ca-cert-file=" + testCA, "--trust-policy-file=testdata/create/notation/not-a-document.json"},
			"invalid trust policy in --trust-policy-file testdata/create/notation/not-a-document.json"},
		{[]string{"notation", "bad", "--ca-cert-file=" + testCA, "--trust-policy-file=testdata/create/notation/missing-name.json"},
			"a trust policy statement is missing a name"},
		{[]string{"notation", "bad", "--ca-cert-file=" + p12, "--trust-policy-file=" + testPolicy}, "ca.p12: the file name must end with either .crt or .pem"},
		{[]string{"notation", "bad", "--ca-cert-file=" + testCA, "--ca-cert-file=" + copyTestFile(t, testCA, t.TempDir(), "ca.crt"),
			"--trust-policy-file=" + testPolicy}, "another file is also named ca.crt"},
		{[]string{"notation", "bad", "--ca-cert-file=" + copyTestFile(t, garbage, t.TempDir(), "bad.crt"), "--trust-policy-file=" + testPolicy},
			"bad.crt: no PEM certificate found"},
		{[]string{"receiver", "bad", "--hostname=h.example"}, "--type is required"},
		{[]string{"receiver", "bad", "--type=jenkins", "--hostname=h.example"}, `receiver type "jenkins" in --type is not supported`},
		{[]string{"receiver", "bad", "--type=generic-oidc", "--hostname=h.example"}, "take no secret"},
		{[]string{"receiver", "bad", "--type=github"}, "--hostname is required"},
		{[]string{"receiver", "bad", "--type=github", "--hostname=https://h.example/"}, `invalid --hostname "https://h.example/"`},
		{[]string{"receiver", "bad", "--type=gcr", "--hostname=h.example"}, "--email-claim is required for gcr receiver type"},
		{[]string{"receiver", "bad", "--type=github", "--hostname=h.example", "--email-claim=a@b"}, "only used with --type=gcr"},
		{[]string{"receiver", "Bad_Name", "--type=github", "--hostname=h.example"}, `invalid name "Bad_Name"`},
		{[]string{"proxy", "bad", "--address=http://proxy:3128", "--label=novalue"}, "key=value"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append([]string{"create", "secret", "-n", ns}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
	var secrets corev1.SecretList
	if err := kube.List(context.Background(), &secrets, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Fatalf("refused commands wrote %d secrets, e.g. %s", len(secrets.Items), secrets.Items[0].Name)
	}
}

// TestCreateSecretApply creates each kind of secret in the cluster and
// reads it back: its type, keys, labels and annotations are Flux's.
func TestCreateSecretApply(t *testing.T) {
	ns := env.Namespace(t)
	appKey, err := os.ReadFile(testAppKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, name string
		args       []string
		wantType   corev1.SecretType
		wantKeys   []string
	}{
		{"tls", "certs", []string{"--tls-crt-file=" + testClientCrt, "--tls-key-file=" + testClientKey, "--ca-crt-file=" + testCA},
			corev1.SecretTypeTLS, []string{"ca.crt", "tls.crt", "tls.key"}},
		{"tls", "ca-only", []string{"--ca-crt-file=" + testCA}, corev1.SecretTypeOpaque, []string{"ca.crt"}},
		{"helm", "repo-auth", []string{"-u", "user", "-p", "pass", "--ca-crt-file=" + testCA},
			corev1.SecretTypeOpaque, []string{"ca.crt", "password", "username"}},
		{"oci", "ghcr", []string{"--url=ghcr.io/org", "-u", "user", "-p", "pass"},
			corev1.SecretTypeDockerConfigJson, []string{".dockerconfigjson"}},
		{"proxy", "proxy", []string{"--address=http://proxy:3128", "-u", "user", "-p", "pass"},
			corev1.SecretTypeOpaque, []string{"address", "password", "username"}},
		{"githubapp", "app", []string{"--app-id=1", "--app-installation-owner=my-org", "--app-private-key=" + testAppKey},
			corev1.SecretTypeOpaque, []string{"githubAppID", "githubAppInstallationOwner", "githubAppPrivateKey"}},
		{"notation", "notation", []string{"--trust-policy-file=" + testPolicy, "--ca-cert-file=" + testCA},
			corev1.SecretTypeOpaque, []string{"ca.crt", "trustpolicy.json"}},
		{"receiver", "hook", []string{"--type=gcr", "--token=t0k3n", "--hostname=flux.example.com", "--email-claim=sa@example.com"},
			corev1.SecretTypeOpaque, []string{"audience", "email", "token"}},
	} {
		t.Run(tc.what+" "+tc.name, func(t *testing.T) {
			args := append([]string{"create", "secret", tc.what, tc.name, "-n", ns, "--label=team=web"}, tc.args...)
			_, stderr, err := runFlux(t, "", args...)
			if err != nil {
				t.Fatal(err)
			}
			if want := "► " + tc.what + " secret '" + tc.name + "' created in '" + ns + "' namespace"; !strings.Contains(stderr, want) {
				t.Fatalf("stderr %q lacks %q", stderr, want)
			}
			var s corev1.Secret
			if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tc.name}, &s); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range s.Data {
				keys = append(keys, k)
			}
			if s.Type != tc.wantType || strings.Join(sortedStrings(keys), ",") != strings.Join(tc.wantKeys, ",") || s.Labels["team"] != "web" {
				t.Fatalf("secret type %s keys %v labels %v, want type %s keys %v", s.Type, keys, s.Labels, tc.wantType, tc.wantKeys)
			}
			switch tc.what {
			case "githubapp":
				if string(s.Data["githubAppPrivateKey"]) != string(appKey) || string(s.Data["githubAppInstallationOwner"]) != "my-org" {
					t.Fatalf("githubapp secret: %v", s.Data)
				}
			case "oci":
				want := `{"auths":{"ghcr.io/org":{"username":"user","password":"pass","auth":"dXNlcjpwYXNz"}}}`
				if got := string(s.Data[".dockerconfigjson"]); got != want {
					t.Fatalf(".dockerconfigjson %s, want %s", got, want)
				}
			case "receiver":
				hook := "https://flux.example.com/hook/" + sha256Hex([]byte("t0k3n"+tc.name+ns))
				if s.Annotations[webhookAnnotation] != hook || string(s.Data["audience"]) != hook || string(s.Data["email"]) != "sa@example.com" {
					t.Fatalf("receiver secret: %v %v", s.Annotations, s.Data)
				}
			}
		})
	}
	// A TLS secret cannot become Opaque: the API refuses to change the type,
	// and the error says what to do.
	_, _, err = runFlux(t, "", "create", "secret", "helm", "certs", "-n", ns, "-u", "u", "-p", "p")
	if err == nil || !strings.Contains(err.Error(), "delete it first") {
		t.Fatalf("changing the type of a secret: %v", err)
	}
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
