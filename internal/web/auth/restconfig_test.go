package auth

import (
	"slices"
	"testing"

	"k8s.io/client-go/rest"
)

func TestConfigFor(t *testing.T) {
	base := &rest.Config{
		Host:            "https://kube.example:6443",
		BearerToken:     "controller-token",
		BearerTokenFile: "/var/run/secrets/token",
		Username:        "admin", Password: "pw",
		TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca"), CertData: []byte("cert"), KeyData: []byte("key")},
	}
	user := User{Name: "jane", Groups: []string{"team-a"}}

	cfg, err := ConfigFor(base, Session{User: user, Mode: ModeToken, token: "jane-token"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken != "jane-token" || cfg.BearerTokenFile != "" || cfg.Username != "" || cfg.Password != "" ||
		cfg.CertData != nil || cfg.KeyData != nil || cfg.Impersonate.UserName != "" {
		t.Errorf("token session carries more than its token: %+v", cfg)
	}
	if cfg.Host != base.Host || string(cfg.CAData) != "ca" {
		t.Errorf("token session lost the address or CA: %+v", cfg)
	}
	if _, err := ConfigFor(base, Session{User: user, Mode: ModeToken}); err == nil {
		t.Error("a token session without its token acted")
	}

	cfg, err = ConfigFor(base, Session{User: user, Mode: ModeProxy})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Impersonate.UserName != "jane" || !slices.Equal(cfg.Impersonate.Groups, []string{"team-a"}) {
		t.Errorf("proxy session impersonates %+v", cfg.Impersonate)
	}
	if base.Impersonate.UserName != "" {
		t.Error("ConfigFor changed base")
	}

	cfg, err = ConfigFor(base, Session{User: user, Mode: ModeLocal})
	if err != nil || cfg.BearerToken != "controller-token" || cfg == base {
		t.Errorf("local session: %v, %+v", err, cfg)
	}
	if _, err := ConfigFor(base, Session{User: user}); err == nil {
		t.Error("a session without a mode acted")
	}
}
