package notifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

const (
	natsSubject  = "flux.events"
	natsPassword = "n4ts-pa55word"
	natsToken    = "n4ts-t0ken-value"
)

// startNATS runs a real NATS server in the test's process, on a free port
// of the loopback interface, with the options' authentication.
func startNATS(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	return srv
}

// natsUsers are a publisher allowed only on natsSubject and a reader.
func natsUsers() *server.Options {
	return &server.Options{Users: []*server.User{
		{Username: "flux", Password: natsPassword, Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{natsSubject}},
		}},
		{Username: "reader", Password: "reader-pw"},
	}}
}

// subscribe returns a subscription of the reader on the subject, ready
// (the server has it) when it returns.
func subscribe(t *testing.T, srv *server.Server, subject string, options ...nats.Option) *nats.Subscription {
	t.Helper()
	conn, err := nats.Connect(srv.ClientURL(), append(options, nats.UserInfo("reader", "reader-pw"))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	sub, err := conn.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestNATSPublishesTheEventJSON(t *testing.T) {
	srv := startNATS(t, natsUsers())
	sub := subscribe(t, srv, natsSubject)
	n, err := New(Settings{Type: "nats", Address: srv.ClientURL(), Channel: natsSubject, Username: "flux", Password: natsPassword})
	if err != nil {
		t.Fatal(err)
	}
	event := testEvent("error")
	if err := n.Post(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(event)
	if string(msg.Data) != string(want) {
		t.Errorf("message %s, want the Event JSON %s", msg.Data, want)
	}
	golden(t, "nats", recorded{Method: "PUB", Path: msg.Subject, Body: msg.Data})
}

// Credentials in the address URL, which then comes from the Secret, work
// as Flux documents; a wrong password there shows in no error.
func TestNATSCredentialsInTheAddress(t *testing.T) {
	srv := startNATS(t, natsUsers())
	sub := subscribe(t, srv, natsSubject)
	host := strings.TrimPrefix(srv.ClientURL(), "nats://")
	n, err := New(Settings{Type: "nats", Address: "nats://flux:" + natsPassword + "@" + host, AddressFromSecret: true, Channel: natsSubject})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("info")); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	n, err = New(Settings{Type: "nats", Address: "nats://flux:wr0ng-secret@" + host, AddressFromSecret: true, Channel: natsSubject})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent("info"))
	assertRefused(t, err, "wr0ng-secret", "flux:")
}

func TestNATSWrongCredentialsAreRefusedWithoutShowingThem(t *testing.T) {
	srv := startNATS(t, natsUsers())
	n, err := New(Settings{Type: "nats", Address: srv.ClientURL(), Channel: natsSubject, Username: "flux", Password: "n0t-the-pa55word"})
	if err != nil {
		t.Fatal(err)
	}
	assertRefused(t, n.Post(context.Background(), testEvent("error")), "n0t-the-pa55word")

	tokenSrv := startNATS(t, &server.Options{Authorization: natsToken})
	n, err = New(Settings{Type: "nats", Address: tokenSrv.ClientURL(), Channel: natsSubject, Token: natsToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("error")); err != nil {
		t.Fatalf("the right token: %v", err)
	}
	n, err = New(Settings{Type: "nats", Address: tokenSrv.ClientURL(), Channel: natsSubject, Token: "wr0ng-t0ken-value"})
	if err != nil {
		t.Fatal(err)
	}
	assertRefused(t, n.Post(context.Background(), testEvent("error")), "wr0ng-t0ken-value")
}

// A user without the right to publish on the subject gets an error, not
// a silent loss.
func TestNATSPublishWithoutPermissionFails(t *testing.T) {
	srv := startNATS(t, natsUsers())
	n, err := New(Settings{Type: "nats", Address: srv.ClientURL(), Channel: "other.subject", Username: "flux", Password: natsPassword})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent("error"))
	if err == nil || !strings.Contains(err.Error(), "permissions violation") {
		t.Fatalf("Post = %v, want a permissions violation", err)
	}
	assertRefused(t, err, natsPassword)
}

// assertRefused checks err is a failure another try cannot mend that
// quotes none of the secrets.
func assertRefused(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted")
	}
	t.Logf("refused: %v", err)
	if retry, _ := Retryable(err); retry {
		t.Errorf("%v is retried", err)
	}
	for _, secret := range secrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows %q", err, secret)
		}
	}
}

// A server that is down is worth another try.
func TestNATSUnreachableServerIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := "nats://" + l.Addr().String()
	l.Close()
	n, err := New(Settings{Type: "nats", Address: address, Channel: natsSubject})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent("error"))
	if err == nil {
		t.Fatal("a closed port accepted the event")
	}
	if retry, _ := Retryable(err); !retry {
		t.Errorf("%v is not retried", err)
	}
	var permanent *PermanentError
	if errors.As(err, &permanent) {
		t.Errorf("%v is permanent", err)
	}
}

// A server that accepts the connection and never answers costs the
// Provider's timeout, not more, and is worth another try.
func TestNATSSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		for {
			conn, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, conn)
		}
	}()
	n, err := New(Settings{Type: "nats", Address: "nats://" + l.Addr().String(), Channel: natsSubject, Client: &http.Client{Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent("error"))
	if err == nil {
		t.Fatal("a silent server accepted the event")
	}
	if retry, _ := Retryable(err); !retry {
		t.Errorf("%v is not retried", err)
	}
}

func TestNATSSettingsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Settings
		want string
	}{
		{"no address", Settings{Channel: "a"}, "spec.address"},
		{"http address", Settings{Address: "http://nats:4222", Channel: "a"}, "not a NATS server URL"},
		{"no host", Settings{Address: "nats://", Channel: "a"}, "not a NATS server URL"},
		{"no channel", Settings{Address: "nats://nats:4222"}, "spec.channel"},
		{"wildcard", Settings{Address: "nats://nats:4222", Channel: "flux.>"}, "wildcard"},
		{"star", Settings{Address: "nats://nats:4222", Channel: "flux.*.x"}, "wildcard"},
		{"empty token", Settings{Address: "nats://nats:4222", Channel: "flux..x"}, "empty token"},
		{"white space", Settings{Address: "nats://nats:4222", Channel: "flux events"}, "white space"},
		{"protocol injection", Settings{Address: "nats://nats:4222", Channel: "a\r\nPUB b 1"}, "control character"},
		{"long subject", Settings{Address: "nats://nats:4222", Channel: strings.Repeat("a", 2000)}, "over the 1024"},
		{"password without username", Settings{Address: "nats://nats:4222", Channel: "a", Password: "pw"}, "username"},
	} {
		c.s.Type = "nats"
		_, err := New(c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want an error saying %q", c.name, err, c.want)
		}
	}
	// A refused address from the Secret shows no credential.
	_, err := New(Settings{Type: "nats", Address: "ftp://flux:hunter22@nats:4222", AddressFromSecret: true, Channel: "a"})
	if err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("New = %v", err)
	}
	// A list of servers and a bare host:port are accepted.
	if _, err := New(Settings{Type: "nats", Address: "nats://a:4222, tls://b:4222,c:4222", Channel: "flux.events"}); err != nil {
		t.Errorf("server list: %v", err)
	}
}

// A subject the notifier accepts is one a server takes for a publish: no
// white space (which would end the protocol line), no wildcard, no empty
// token.
func FuzzNATSSubject(f *testing.F) {
	for _, seed := range []string{"flux.events", "a..b", "a.>", "a\r\nPUB x 1", "*", "ünïcode.subject"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		if checkSubject(subject) != nil {
			return
		}
		if strings.ContainsAny(subject, " \t\r\n") || strings.Contains(subject, "..") || strings.HasPrefix(subject, ".") || strings.HasSuffix(subject, ".") {
			t.Fatalf("subject %q accepted", subject)
		}
		for _, token := range strings.Split(subject, ".") {
			if token == "*" || token == ">" {
				t.Fatalf("wildcard subject %q accepted", subject)
			}
		}
	})
}

// selfSigned returns a TLS certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nats test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// The Provider's CA (certSecretRef, in the client's TLS settings) is
// used for a server that requires TLS, with a tls:// address or not.
func TestNATSUsesTheProvidersCA(t *testing.T) {
	cert, pool := selfSigned(t)
	opts := natsUsers()
	opts.TLS = true
	opts.TLSTimeout = 5
	opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv := startNATS(t, opts)
	clientTLS := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	sub := subscribe(t, srv, natsSubject, nats.Secure(clientTLS))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}}
	_, host, _ := strings.Cut(srv.ClientURL(), "://")
	for _, address := range []string{"tls://" + host, "nats://" + host} {
		n, err := New(Settings{Type: "nats", Address: address, Channel: natsSubject, Username: "flux", Password: natsPassword, Client: client})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Post(context.Background(), testEvent("error")); err != nil {
			t.Fatalf("%s: %v", address, err)
		}
		if _, err := sub.NextMsg(10 * time.Second); err != nil {
			t.Fatalf("%s: %v", address, err)
		}
	}
	// Without the CA, the server's certificate is not trusted.
	n, err := New(Settings{Type: "nats", Address: "tls://" + host, Channel: natsSubject, Username: "flux", Password: natsPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("error")); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an unknown CA: %v", err)
	}
}
