// Package pki generates the certificate authority, certificates and keys of a
// local cluster, stores them as PEM files in a directory and reuses them on
// the next run when they are still valid for their purpose.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 2 * 365 * 24 * time.Hour
	// renewBefore is how long before expiry a stored certificate is replaced.
	renewBefore = 30 * 24 * time.Hour
	// backdate tolerates small clock differences between issuer and verifier.
	backdate = time.Hour
)

// Identity describes the certificate to issue: who it names and what it may
// be used for.
type Identity struct {
	CommonName    string
	Organizations []string
	DNSNames      []string
	IPs           []net.IP
	Server        bool
	Client        bool
}

// KeyPair is a certificate and its private key, in memory and on disk.
type KeyPair struct {
	Cert     *x509.Certificate
	CertPEM  []byte
	KeyPEM   []byte
	CertFile string
	KeyFile  string
}

// CA is the cluster's certificate authority. It signs every other certificate.
type CA struct {
	KeyPair
	key crypto.Signer
}

// LoadOrCreateCA reads dir/ca.crt and dir/ca.key, or creates a new CA there
// when they are missing, unreadable or about to expire.
func LoadOrCreateCA(dir string, now time.Time) (*CA, bool, error) {
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	kp, key, err := load(certFile, keyFile)
	if err == nil && kp.Cert.IsCA && usable(kp.Cert, now) {
		return &CA{KeyPair: *kp, key: key}, false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	caKey, err := newKey()
	if err != nil {
		return nil, false, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "localcluster-ca"},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	kp, err = issue(tmpl, tmpl, caKey, caKey)
	if err != nil {
		return nil, false, fmt.Errorf("create ca: %w", err)
	}
	if err := kp.write(certFile, keyFile); err != nil {
		return nil, false, err
	}
	return &CA{KeyPair: *kp, key: caKey}, true, nil
}

// LoadOrIssue returns dir/name.crt and dir/name.key when they were signed by
// this CA, match id and are not about to expire; otherwise it issues and
// stores a new pair.
func (ca *CA) LoadOrIssue(dir, name string, id Identity, now time.Time) (*KeyPair, error) {
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	kp, _, err := load(certFile, keyFile)
	if err == nil && usable(kp.Cert, now) && ca.signed(kp.Cert) && Matches(kp.Cert, id) {
		return kp, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	kp, err = ca.Issue(id, now)
	if err != nil {
		return nil, fmt.Errorf("issue %s certificate: %w", name, err)
	}
	if err := kp.write(certFile, keyFile); err != nil {
		return nil, err
	}
	return kp, nil
}

// Issue creates a new key and a certificate for id signed by the CA, in memory.
func (ca *CA) Issue(id Identity, now time.Time) (*KeyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: id.CommonName, Organization: id.Organizations},
		DNSNames:    id.DNSNames,
		IPAddresses: id.IPs,
		NotBefore:   now.Add(-backdate),
		NotAfter:    now.Add(leafValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	if id.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if id.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	return issue(tmpl, ca.Cert, key, ca.key)
}

// Matches reports whether cert carries exactly the names and usages of id.
func Matches(cert *x509.Certificate, id Identity) bool {
	if cert.Subject.CommonName != id.CommonName ||
		!sameSet(cert.Subject.Organization, id.Organizations) ||
		!sameSet(cert.DNSNames, id.DNSNames) {
		return false
	}
	ips := make([]string, 0, len(cert.IPAddresses))
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	want := make([]string, 0, len(id.IPs))
	for _, ip := range id.IPs {
		want = append(want, ip.String())
	}
	return sameSet(ips, want) &&
		slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) == id.Server &&
		slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) == id.Client
}

func (ca *CA) signed(cert *x509.Certificate) bool {
	return bytes.Equal(cert.RawIssuer, ca.Cert.RawSubject) && cert.CheckSignatureFrom(ca.Cert) == nil
}

func usable(cert *x509.Certificate, now time.Time) bool {
	return now.After(cert.NotBefore) && now.Add(renewBefore).Before(cert.NotAfter)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func newKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

func issue(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, signer crypto.Signer) (*KeyPair, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return &KeyPair{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func (kp *KeyPair) write(certFile, keyFile string) error {
	if err := WriteFile(keyFile, kp.KeyPEM, 0o600); err != nil {
		return err
	}
	if err := WriteFile(certFile, kp.CertPEM, 0o644); err != nil {
		return err
	}
	kp.CertFile, kp.KeyFile = certFile, keyFile
	return nil
}

func load(certFile, keyFile string) (*KeyPair, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read key: %w", err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("%s: %w", certFile, fs.ErrNotExist)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certFile, fs.ErrNotExist)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyFile, fs.ErrNotExist)
	}
	if !publicKeyEqual(cert.PublicKey, key.Public()) {
		return nil, nil, fmt.Errorf("%s does not match %s: %w", keyFile, certFile, fs.ErrNotExist)
	}
	return &KeyPair{Cert: cert, CertPEM: certPEM, KeyPEM: keyPEM, CertFile: certFile, KeyFile: keyFile}, key, nil
}

// ParseKey decodes a PEM private key written by this package.
func ParseKey(keyPEM []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM block in key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key of type %T cannot sign", parsed)
	}
	return signer, nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

// WriteFile replaces path atomically with data: a reader sees either the old
// file or the complete new one.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
