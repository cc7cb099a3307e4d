// Package testca is a throwaway certificate authority for tests: it issues
// server certificates for listeners on the loopback address, client
// certificates for mutual TLS and plain signing certificates (a token
// server's JWT key), all with ECDSA P-256 keys and a one-day lifetime.
//
// The functions take no testing.TB so that a TestMain can use them too. Key
// generation and certificate creation from these fixed templates fail only
// when the system's random source does; that panics.
package testca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a self-signed certificate authority.
type CA struct {
	// Cert is the CA certificate and CertPEM its PEM form: the `ca.crt`
	// value of a Secret, the file a client or server trusts.
	Cert    *x509.Certificate
	CertPEM []byte

	key crypto.Signer
}

// Pair is an issued certificate with its private key.
type Pair struct {
	// CertPEM is the PEM certificate (`tls.crt`), KeyPEM the PKCS#8 PEM
	// private key (`tls.key`).
	CertPEM []byte
	KeyPEM  []byte
	// Cert and Key are the parsed forms.
	Cert *x509.Certificate
	Key  crypto.Signer
}

// TLSCertificate is the pair as a crypto/tls certificate.
func (p Pair) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}
}

// New makes a CA whose certificate has commonName as its subject.
func New(commonName string) *CA {
	key := newKey()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert := create(tmpl, tmpl, key, key)
	return &CA{Cert: cert, CertPEM: certPEM(cert), key: key}
}

// Pool is a certificate pool holding only the CA, for a tls.Config's
// RootCAs or ClientCAs.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// Server issues a server certificate valid for 127.0.0.1, ::1 and
// localhost, and for each of hosts (an IP address or a DNS name). Its
// common name is the first host, or 127.0.0.1.
func (ca *CA) Server(hosts ...string) Pair {
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	dns := []string{"localhost"}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	cn := "127.0.0.1"
	if len(hosts) > 0 {
		cn = hosts[0]
	}
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: ips,
		DNSNames:    dns,
	})
}

// Client issues a client certificate for mutual TLS named commonName.
func (ca *CA) Client(commonName string) Pair {
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// Signer issues a certificate for a key that signs data rather than TLS
// handshakes (for example the JWTs of a registry token server).
func (ca *CA) Signer(commonName string) Pair {
	return ca.issue(&x509.Certificate{
		Subject:  pkix.Name{CommonName: commonName},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
}

func (ca *CA) issue(tmpl *x509.Certificate) Pair {
	key := newKey()
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	cert := create(tmpl, ca.Cert, key, ca.key)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(fmt.Sprintf("testca: marshal key: %v", err))
	}
	return Pair{
		CertPEM: certPEM(cert),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		Cert:    cert,
		Key:     key,
	}
}

func newKey() *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("testca: generate key: %v", err))
	}
	return key
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		panic(fmt.Sprintf("testca: serial number: %v", err))
	}
	return n.Add(n, big.NewInt(1))
}

func create(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, signer crypto.Signer) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		panic(fmt.Sprintf("testca: create certificate %q: %v", tmpl.Subject.CommonName, err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("testca: parse certificate %q: %v", tmpl.Subject.CommonName, err))
	}
	return cert
}

func certPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}
