package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
)

// DefaultListenAddr is the endpoint's address: the artifact server holds
// Flux's :9090 in the one binary.
const DefaultListenAddr = ":9091"

// Options are the endpoint's flags.
type Options struct {
	// ListenAddr is --events-listen-addr; "0" disables the endpoint.
	ListenAddr string
}

// BindFlags registers --events-listen-addr.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ListenAddr, "events-listen-addr", DefaultListenAddr,
		"address of the event ingestion endpoint Flux's controllers post their events to (Service notification-controller); 0 disables it")
}

// Enabled tells whether the endpoint listens.
func (o Options) Enabled() bool { return o.ListenAddr != "" && o.ListenAddr != "0" }

// Server serves the Handler on ListenAddr with the limits of one request:
// headers up to MaxHeaderBytes read within ReadHeaderTimeout, the whole
// request within RequestTimeout. It is a controller-runtime Runnable that
// runs on every replica.
type Server struct {
	Addr    string
	Handler http.Handler
	Log     logr.Logger
	// listening, when set, gets the bound address (tests listen on :0).
	listening chan<- string
}

// NewServer returns the endpoint's server, or nil when it is disabled.
func NewServer(o Options, h http.Handler, log logr.Logger) *Server {
	if !o.Enabled() {
		return nil
	}
	return &Server{Addr: o.ListenAddr, Handler: h, Log: log}
}

// httpServer is the server with its limits.
func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           http.TimeoutHandler(s.Handler, RequestTimeout, "the request took longer than 30s"),
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       RequestTimeout,
		WriteTimeout:      RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// Start listens until ctx ends, then shuts down, letting the requests in
// flight finish for a few seconds.
func (s *Server) Start(ctx context.Context) error {
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("event endpoint --events-listen-addr %s: %w", s.Addr, err)
	}
	if s.listening != nil {
		s.listening <- l.Addr().String()
	}
	srv := s.httpServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	s.Log.Info("event endpoint listening", "addr", l.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("event endpoint: %w", err)
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(stop); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// NeedLeaderElection is false: every replica takes events (the Service
// reaches any of them).
func (*Server) NeedLeaderElection() bool { return false }
