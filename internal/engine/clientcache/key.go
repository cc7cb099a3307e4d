package clientcache

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"

	"k8s.io/client-go/rest"
)

// Key is the identity of cfg as a cache key: a digest of the server, the
// credentials, the impersonation and the timeout. Two configs that would act
// as the same identity on the same server share a key; a rotated token or
// certificate gives a new one, so a changed kubeconfig Secret gets new
// clients. Being a digest, it may be logged: it reveals no credential.
func Key(cfg *rest.Config) string {
	h := sha256.New()
	field := func(b []byte) {
		h.Write([]byte(strconv.Itoa(len(b))))
		h.Write([]byte{':'})
		h.Write(b)
	}
	str := func(ss ...string) {
		for _, s := range ss {
			field([]byte(s))
		}
	}
	// list is a variable number of fields, counted so that no two lists
	// hash alike.
	list := func(ss ...string) {
		str(strconv.Itoa(len(ss)))
		str(ss...)
	}
	str(cfg.Host, cfg.APIPath, cfg.BearerToken, cfg.BearerTokenFile, cfg.Username, cfg.Password)
	field(cfg.CertData)
	field(cfg.KeyData)
	field(cfg.CAData)
	str(cfg.CertFile, cfg.KeyFile, cfg.CAFile, cfg.ServerName, strconv.FormatBool(cfg.Insecure), cfg.Timeout.String())
	if e := cfg.ExecProvider; e != nil {
		str("exec", e.APIVersion, e.Command)
		list(e.Args...)
		str(strconv.Itoa(len(e.Env)))
		for _, v := range e.Env {
			str(v.Name, v.Value)
		}
	}
	imp := cfg.Impersonate
	str("as", imp.UserName, imp.UID)
	list(imp.Groups...)
	list(slices.Sorted(maps.Keys(imp.Extra))...)
	for _, k := range slices.Sorted(maps.Keys(imp.Extra)) {
		list(imp.Extra[k]...)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
