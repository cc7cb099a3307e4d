package bucket_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/s3test"
)

// TestBucketSpecSecrets: every Secret a Bucket's spec names reaches the
// S3 client through the controller: certSecretRef with a client
// certificate (a front that demands one), proxySecretRef (a forward proxy
// with basic auth, which must see the traffic), provider aws with static
// keys in another region, and sts.provider ldap (an STS stand-in that
// checks the LDAP user and password and answers with the server's keys).
func TestBucketSpecSecrets(t *testing.T) {
	ns := env.Namespace(t)

	t.Run("mutual-tls", func(t *testing.T) {
		s := s3test.Start(t, s3test.Options{})
		s.MakeBucket(t, "mtls")
		etags := map[string]string{"a.yaml": s.Put(t, "mtls", "a.yaml", []byte("a"))}
		front := s.NewMutualTLSProxy(t)
		cert := secret(t, ns, "client-cert", map[string][]byte{"ca.crt": front.CA, "tls.crt": front.ClientCert, "tls.key": front.ClientKey})
		waitRevision(t, create(t, ns, "mtls", sourcev1.BucketSpec{BucketName: "mtls", Endpoint: front.Endpoint(),
			SecretRef: keysSecret(t, ns, s), CertSecretRef: cert}), fluxRevision(etags))
		if front.Forwarded() == 0 {
			t.Error("nothing went through the mutual-TLS front")
		}
	})

	t.Run("proxy", func(t *testing.T) {
		s := s3test.Start(t, s3test.Options{})
		s.MakeBucket(t, "proxied")
		etags := map[string]string{"a.yaml": s.Put(t, "proxied", "a.yaml", []byte("a"))}
		proxy := gittest.NewHTTPProxy(t, "squid", "proxy-pass-1234")
		ref := secret(t, ns, "proxy", map[string][]byte{"address": []byte(proxy.URL), "username": []byte("squid"), "password": []byte("proxy-pass-1234")})
		waitRevision(t, create(t, ns, "proxied", sourcev1.BucketSpec{BucketName: "proxied", Endpoint: s.Endpoint, Insecure: true,
			SecretRef: keysSecret(t, ns, s), ProxySecretRef: ref}), fluxRevision(etags))
		if proxy.Forwarded() == 0 {
			t.Error("nothing went through the proxy of proxySecretRef")
		}
	})

	t.Run("aws-region", func(t *testing.T) {
		s := s3test.Start(t, s3test.Options{Region: "eu-west-3"})
		s.MakeBucket(t, "paris")
		etags := map[string]string{"a.yaml": s.Put(t, "paris", "a.yaml", []byte("a"))}
		waitRevision(t, create(t, ns, "paris", sourcev1.BucketSpec{Provider: "aws", BucketName: "paris", Endpoint: s.Endpoint, Insecure: true,
			Region: "eu-west-3", SecretRef: keysSecret(t, ns, s)}), fluxRevision(etags))
	})

	t.Run("sts-ldap", func(t *testing.T) {
		s := s3test.Start(t, s3test.Options{})
		s.MakeBucket(t, "ldap")
		etags := map[string]string{"a.yaml": s.Put(t, "ldap", "a.yaml", []byte("a"))}
		var calls atomic.Int64
		sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "AssumeRoleWithLDAPIdentity" ||
				r.Form.Get("LDAPUsername") != "alice" || r.Form.Get("LDAPPassword") != "ldap-pass-1234" {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Code>AccessDenied</Code><Message>LDAP bind failed</Message></Error></ErrorResponse>`)
				return
			}
			fmt.Fprintf(w, `<AssumeRoleWithLDAPIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithLDAPIdentityResult><Credentials>`+
				`<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><Expiration>%s</Expiration><SessionToken></SessionToken>`+
				`</Credentials></AssumeRoleWithLDAPIdentityResult></AssumeRoleWithLDAPIdentityResponse>`,
				s.AccessKey, s.SecretKey, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		}))
		t.Cleanup(sts.Close)
		ldap := secret(t, ns, "ldap", map[string][]byte{"username": []byte("alice"), "password": []byte("ldap-pass-1234")})
		waitRevision(t, create(t, ns, "ldap", sourcev1.BucketSpec{BucketName: "ldap", Endpoint: s.Endpoint, Insecure: true,
			STS: &sourcev1.BucketSTSSpec{Provider: "ldap", Endpoint: sts.URL, SecretRef: ldap}}), fluxRevision(etags))
		if calls.Load() == 0 {
			t.Error("the STS stand-in was never asked")
		}
	})
}
