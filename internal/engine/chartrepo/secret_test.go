package chartrepo

import (
	"errors"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/testca"
)

func TestSecretOptions(t *testing.T) {
	opts, warnings, err := SecretOptions(map[string][]byte{"username": []byte(testUser), "password": []byte(testPass)})
	if err != nil || opts.Username != testUser || opts.Password != testPass || opts.TLS != nil || len(warnings) != 0 {
		t.Fatalf("basic auth: %+v %v %v", opts, warnings, err)
	}
	for _, tc := range []struct {
		data map[string][]byte
		msg  string
	}{
		{map[string][]byte{"username": []byte(testUser)}, "has username but no password"},
		{map[string][]byte{"password": []byte(testPass)}, "has password but no username"},
		{map[string][]byte{"other": []byte("x")}, "has none of username"},
		{map[string][]byte{"username": []byte(testUser), "password": []byte(testPass), "ca.crt": []byte(testPass)}, "ca.crt holds no PEM certificate"},
		{map[string][]byte{"username": []byte(testUser), "password": []byte(testPass), "tls.crt": []byte(testPass)}, "no tls.key"},
	} {
		_, _, err := SecretOptions(tc.data)
		if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v, want %q", err, tc.msg)
		}
		assertNoSecret(t, err)
	}
	// The first API's key names still work, and the caller's map is left alone.
	legacy := map[string][]byte{"caFile": testca.New("legacy keys").CertPEM}
	opts, warnings, err = SecretOptions(legacy)
	if err != nil || opts.TLS == nil || opts.TLS.RootCAs == nil || len(warnings) != 1 {
		t.Errorf("caFile in secretRef: %+v %v %v", opts, warnings, err)
	}
	if _, ok := legacy["ca.crt"]; ok {
		t.Error("SecretOptions wrote into the caller's map")
	}
	if _, _, err := SecretOptions(map[string][]byte{"certFile": []byte(testPass)}); err == nil || !strings.Contains(err.Error(), "no tls.key") {
		t.Errorf("certFile without keyFile: %v", err)
	}
	if _, err := TLSFromCertSecret(map[string][]byte{"tls.key": []byte(testPass)}); !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), "certSecretRef") {
		t.Errorf("certSecretRef: %v", err)
	}
}
