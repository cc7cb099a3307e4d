package manager

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/driftless/driftless/internal/web"
	"github.com/driftless/driftless/internal/web/actor"
	"github.com/driftless/driftless/internal/web/auth"
	"github.com/driftless/driftless/internal/web/cachestore"
	"github.com/driftless/driftless/internal/web/eventsource"
	"github.com/driftless/driftless/internal/web/objectreader"
)

// webShutdownBound is how long the UI's server waits for its requests to
// end once the manager stops; live streams end at once (their contexts are
// the manager's), so this only bounds a page still rendering.
const webShutdownBound = 5 * time.Second

// webServer serves the UI on every replica: it needs no leader election,
// adds no readiness check, and stops with the manager.
type webServer struct {
	listener net.Listener
	handler  http.Handler
	log      logr.Logger
}

var (
	_ manager.Runnable               = (*webServer)(nil)
	_ manager.LeaderElectionRunnable = (*webServer)(nil)
)

// addWebServer listens on --web-addr now, so that a bad or taken address
// fails the start as --health-addr and --metrics-addr do, and adds the
// server to mgr.
func addWebServer(mgr ctrl.Manager, opts Options, logger logr.Logger) error {
	if opts.Web.Addr == "" {
		return nil
	}
	proxy, err := webAuthProxy(opts.Web)
	if err != nil {
		return err
	}
	tlsConfig, err := webTLSConfig(opts.Web, proxy)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", opts.Web.Addr)
	if err != nil {
		return fmt.Errorf("listen on --web-addr %s: %w", opts.Web.Addr, err)
	}
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
	}
	log := logger.WithName("web")
	store := cachestore.New(mgr.GetCache(), mgr.GetAPIReader(), slog.New(logr.ToSlogHandler(log)))
	kube, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		l.Close()
		return fmt.Errorf("web UI: make the client for token and access reviews: %w", err)
	}
	objects, err := objectreader.NewForConfig(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		l.Close()
		return fmt.Errorf("web UI: %w", err)
	}
	wo := webServerOptions(opts, store, mgr.GetConfig(), kube.AuthenticationV1().TokenReviews(),
		kube.AuthorizationV1().SubjectAccessReviews(), proxy, log)
	// The inventory tree and the lookup read any kind as the controller;
	// wo.Access gates every answer by the viewer's RBAC.
	wo.Objects = objects
	// Object pages read events as the controller, one object at a time
	// with a field selector and, live, one watch per open stream: no
	// Event informer joins the manager's cache. Options.Access checks the
	// viewer may list events in each namespace first.
	wo.Events = eventsource.New(kube)
	srv := &webServer{listener: l, handler: web.NewUI(wo), log: log}
	if err := mgr.Add(srv); err != nil {
		l.Close()
		return err
	}
	return nil
}

// webServerOptions are what the in-cluster UI is served with: the one
// place the --web-* flags meet web.Options. Logins are checked with
// TokenReviews and every read is filtered by the viewer's RBAC with
// SubjectAccessReviews (each answer cached 30 s), both sent as the
// controller (addWebServer passes its clientset's), which is granted
// create on both. Actions go to the API server at base's address with the
// viewer's own token, never base's credentials (internal/web/actor). Options.Context is not needed: the streams end with the
// manager through their requests' contexts, and webServer.Start closes
// the UI.
//
// proxy, when not nil, is --web-auth-proxy-ca's: the visitors it names act
// by impersonation with base's identity (auth.ConfigFor), for which the
// install grants impersonate on users and groups only in that mode.
func webServerOptions(opts Options, store web.Store, base *rest.Config, tokens auth.TokenReviewer, access auth.AccessReviewer, proxy *auth.Proxy, log logr.Logger) web.Options {
	hosts := opts.Web.Hosts
	if len(hosts) == 0 {
		hosts = DefaultWebHosts(runtimeNamespace(opts))
	}
	reviews := auth.NewAccess(access, auth.AccessOptions{})
	return web.Options{
		Store:         store,
		Hosts:         hosts,
		Log:           slog.New(logr.ToSlogHandler(log)),
		MaxStreams:    opts.Web.MaxStreams,
		Auth:          web.AuthToken,
		Anonymous:     opts.Web.AnonymousUser,
		Login:         &auth.Authenticator{Reviews: tokens},
		Access:        reviews,
		Actor:         actor.New(base, reviews),
		ActionTimeout: opts.Web.ActionTimeout,
		Proxy:         proxy,
	}
}

// webAuthProxy is the authenticating proxy of --web-auth-proxy-ca, nil
// when the flag is not set. The CA is read once, at start.
func webAuthProxy(w WebOptions) (*auth.Proxy, error) {
	if w.AuthProxyCA == "" {
		return nil, nil
	}
	p, err := auth.LoadProxy(w.AuthProxyCA)
	if err != nil {
		return nil, fmt.Errorf("--web-auth-proxy-ca %s: %w", w.AuthProxyCA, err)
	}
	p.AllowedNames = w.AuthProxyAllowedNames
	return p, nil
}

// webTLSConfig is the server's TLS, nil for plain HTTP: TLS 1.2 or later.
// With an authenticating proxy, a client certificate is verified against
// its CA when one is given; browsers give none and log in with a token.
func webTLSConfig(w WebOptions, proxy *auth.Proxy) (*tls.Config, error) {
	if w.TLSCert == "" {
		return nil, nil
	}
	kp := &keyPair{certFile: w.TLSCert, keyFile: w.TLSKey}
	if _, err := kp.get(nil); err != nil {
		return nil, err
	}
	// h2 first: a browser's tabs then share one connection for their
	// live-update streams instead of HTTP/1.1's six per host.
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.get, NextProtos: []string{"h2", "http/1.1"}}
	if proxy != nil {
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		cfg.ClientCAs = proxy.ClientCAs()
	}
	return cfg, nil
}

// NeedLeaderElection is false: every replica serves the UI from its own
// cache, whatever the election decides.
func (*webServer) NeedLeaderElection() bool { return false }

// Start serves until ctx ends. Every request's context is ctx's child, so
// live streams end as the manager stops; then the server shuts down within
// webShutdownBound. A serve error after start is logged, not returned: the
// UI going away must not stop reconciliation.
func (s *webServer) Start(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(s.listener) }()
	s.log.Info("serving the web UI", "addr", s.listener.Addr().String())
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(err, "the web UI stopped serving")
		}
		<-ctx.Done()
		return nil
	case <-ctx.Done():
	}
	// The UI refuses new streams from here on (its open ones end with
	// their requests' contexts, children of ctx).
	if ui, ok := s.handler.(interface{ Close() }); ok {
		ui.Close()
	}
	shutdown, cancel := context.WithTimeout(context.Background(), webShutdownBound)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close()
	}
	return nil
}

// keyPair is the serving certificate, read again when either file changes
// (cert-manager renews the Secret, the kubelet swaps the mounted files), so
// a renewed certificate is served without a restart. A pair that fails to
// load after a change leaves the last good one in service (a renewal
// caught between its two files); only the first load must succeed.
type keyPair struct {
	certFile, keyFile string

	mu              sync.Mutex
	certMod, keyMod time.Time
	current         *tls.Certificate
}

// get is tls.Config.GetCertificate.
func (k *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	cs, cerr := os.Stat(k.certFile)
	ks, kerr := os.Stat(k.keyFile)
	if cerr == nil && kerr == nil && k.current != nil && cs.ModTime().Equal(k.certMod) && ks.ModTime().Equal(k.keyMod) {
		return k.current, nil
	}
	cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		if k.current != nil {
			return k.current, nil
		}
		return nil, fmt.Errorf("load --web-tls-cert %s and --web-tls-key %s: %w", k.certFile, k.keyFile, err)
	}
	k.current = &cert
	if cerr == nil && kerr == nil {
		k.certMod, k.keyMod = cs.ModTime(), ks.ModTime()
	}
	return k.current, nil
}
