package bucket

import (
	"net/url"
	"strings"
	"testing"
)

func TestValidateEndpoint(t *testing.T) {
	for _, ok := range []string{"s3.example.com", "minio:9000", "10.0.0.5:9000", "[::1]:9000", "storage.googleapis.com"} {
		if err := ValidateEndpoint(ok, false); err != nil {
			t.Errorf("ValidateEndpoint(%q): %v", ok, err)
		}
	}
	for _, tc := range []struct {
		endpoint string
		insecure bool
		say      string
	}{
		{"http://minio:9000", false, "insecure: true"},
		{"https://s3.example.com", false, "scheme https://"},
		{"s3.example.com/bucket", false, "path"},
		{"minio:", false, "port"},
		{"minio:abc", false, "port"},
		{"", false, "empty"},
		{"user@host", false, "user info"},
	} {
		err := ValidateEndpoint(tc.endpoint, tc.insecure)
		if !IsInvalidEndpoint(err) {
			t.Errorf("ValidateEndpoint(%q) = %v, want an EndpointError", tc.endpoint, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.say) || !strings.Contains(msg, "host[:port]") || !strings.Contains(msg, "insecure: true means plain HTTP") {
			t.Errorf("ValidateEndpoint(%q) message %q lacks %q, the expected form or the insecure hint", tc.endpoint, msg, tc.say)
		}
	}
}

func TestNewRefusesAWSWithoutKeys(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "environment-secret")
	_, err := New(Config{Provider: ProviderAWS, BucketName: "b", Endpoint: "s3.amazonaws.com"})
	if !IsInvalidProvider(err) || !strings.Contains(err.Error(), "secretRef") || !strings.Contains(err.Error(), "IRSA") {
		t.Fatalf("New(aws, no keys) = %v, want a ProviderError naming secretRef and IRSA", err)
	}
	_, err = New(Config{Provider: ProviderAWS, BucketName: "b", Endpoint: "s3.amazonaws.com", AccessKey: "a", SecretKey: "s",
		STS: &STS{Provider: "aws", Endpoint: "https://sts.amazonaws.com"}})
	if !IsInvalidProvider(err) {
		t.Fatalf("New(aws, sts aws) = %v, want a ProviderError", err)
	}
	if _, err := New(Config{Provider: "gcp", BucketName: "b", Endpoint: "storage.googleapis.com"}); !IsInvalidProvider(err) {
		t.Fatalf("New(gcp) = %v, want a ProviderError", err)
	}
}

func TestNewRefusesHalfCredentials(t *testing.T) {
	_, err := New(Config{BucketName: "b", Endpoint: "minio:9000", AccessKey: "a"})
	if err == nil || !strings.Contains(err.Error(), "secretkey") {
		t.Fatalf("New(no secret key) = %v, want an error naming secretkey", err)
	}
}

func TestNewSTSValidation(t *testing.T) {
	base := Config{BucketName: "b", Endpoint: "minio:9000"}
	for _, tc := range []struct {
		sts     STS
		urlBad  bool
		invalid bool
	}{
		{STS{Provider: "ldap", Endpoint: "::not a url", Username: "u", Password: "p"}, true, true},
		{STS{Provider: "ldap", Endpoint: "ftp://sts", Username: "u", Password: "p"}, true, true},
		{STS{Provider: "aws", Endpoint: "https://sts", Username: "u", Password: "p"}, false, true},
		{STS{Provider: "ldap", Endpoint: "https://sts", Username: "u"}, false, true},
		{STS{Provider: "ldap", Endpoint: "https://sts:8443", Username: "u", Password: "p"}, false, false},
	} {
		cfg := base
		s := tc.sts
		cfg.STS = &s
		_, err := New(cfg)
		if IsInvalidSTSConfiguration(err) != tc.invalid || IsSTSURLInvalid(err) != tc.urlBad {
			t.Errorf("New(sts %+v) = %v, want invalid=%v urlInvalid=%v", tc.sts.Endpoint, err, tc.invalid, tc.urlBad)
		}
		if err != nil && strings.Contains(err.Error(), "p\"") {
			t.Errorf("message %q may hold the password", err)
		}
	}
}

func TestRedactScrubsSecrets(t *testing.T) {
	proxy, _ := url.Parse("http://user:proxy-password@proxy:3128")
	c, err := New(Config{BucketName: "b", Endpoint: "minio:9000", Insecure: true, AccessKey: "AK", SecretKey: "top-secret-key", Proxy: proxy})
	if err != nil {
		t.Fatal(err)
	}
	got := c.redact("dial http://user:proxy-password@proxy:3128 with top-secret-key")
	if strings.Contains(got, "proxy-password") || strings.Contains(got, "top-secret-key") {
		t.Errorf("redact left a secret: %q", got)
	}
}
