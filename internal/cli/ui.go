package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/web"
	"github.com/driftless/driftless/internal/web/actor"
	"github.com/driftless/driftless/internal/web/auth"
	"github.com/driftless/driftless/internal/web/eventsource"
	"github.com/driftless/driftless/internal/web/informerstore"
	"github.com/driftless/driftless/internal/web/objectreader"
)

type uiOptions struct {
	address    string
	port       int
	namespaces []string
}

// newUICommand is `flux ui`: the web UI served locally, reading with the
// kubeconfig's own credentials (so --context and --as work as in kubectl),
// behind a one-time URL.
func newUICommand(f *Factory) *cobra.Command {
	o := &uiOptions{}
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve the web UI locally, acting as you",
		Long: `Serve the web UI on this machine against the cluster the kubeconfig reaches.

Every read is made with the kubeconfig's own credentials, so the
API server decides what you see. When you may not list
cluster-wide, the UI watches the namespaces of --namespaces, else the kube
context's, and says so. The command prints a URL with a one-time token: the
first visit trades it for a session cookie. It runs until interrupted.`,
		Example: `  # Serve the UI on http://127.0.0.1:9080
  flux ui

  # Another context, as another user, on a free port
  flux ui --context staging --as jane --port 0

  # Only two namespaces
  flux ui --namespaces apps,flux-system`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runUI(ctx, f, o)
		},
	}
	cmd.Flags().StringVar(&o.address, "address", "127.0.0.1", "the address to listen on")
	cmd.Flags().IntVar(&o.port, "port", 9080, "the port to listen on; 0 picks a free port")
	cmd.Flags().StringSliceVar(&o.namespaces, "namespaces", nil, "watch only these namespaces (comma-separated)")
	return cmd
}

func runUI(ctx context.Context, f *Factory, o *uiOptions) error {
	if o.port < 0 || o.port > 65535 {
		return fmt.Errorf("--port %d: want 0 to 65535", o.port)
	}
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	fallback, err := f.Namespace()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(f.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Fprintln(f.Err, "► starting informers")
	store, err := informerstore.Start(ctx, informerstore.Options{Config: cfg, Namespaces: o.namespaces, Fallback: fallback, Log: log})
	if err != nil {
		return err
	}
	if namespaces, limited, why := store.Namespaces(); limited {
		fmt.Fprintf(f.Err, "► watching namespaces %v: %s\n", namespaces, why)
	}

	// The inventory tree and the lookup read any kind with the user's own
	// credentials: the API server's Forbidden shows as "no access".
	objects, err := objectreader.NewForConfig(cfg, nil)
	if err != nil {
		return err
	}
	// The object pages read events with the user's own credentials too:
	// the API server answers Forbidden where they may not list them.
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("making the client that reads events: %w", err)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(o.address, strconv.Itoa(o.port)))
	if err != nil {
		return fmt.Errorf("listening on %s:%d: %w", o.address, o.port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	// A cookie of its own per port: browsers keep cookies per host, and a
	// port-forwarded in-cluster UI on 127.0.0.1 must not share this one.
	sessions := auth.NewSessions(auth.SessionOptions{CookieName: "driftless_ui_" + strconv.Itoa(port)})
	oneTime, token, err := auth.NewOneTime(sessions, localUser(ctx, cfg), 0)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler: web.New(web.Options{
			Store: store, Hosts: []string{"127.0.0.1", "localhost"}, Log: log,
			Auth: web.AuthLocal, Sessions: sessions, OneTime: oneTime, Objects: objects, Events: eventsource.New(kube),
			// Actions go out with the kubeconfig's own credentials; the
			// buttons show where a SelfSubjectAccessReview allows patch.
			Actor: actor.New(cfg, nil),
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	host := "127.0.0.1"
	if o.address == "localhost" {
		host = "localhost"
	}
	fmt.Fprintf(f.Out, "Open http://%s/?token=%s\n", net.JoinHostPort(host, strconv.Itoa(port)), token)
	fmt.Fprintln(f.Err, "► serving until interrupted (Ctrl-C)")

	select {
	case err := <-served:
		return fmt.Errorf("serving the UI: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving the UI: %w", err)
	}
	fmt.Fprintln(f.Err, "✔ stopped")
	return nil
}

// localUser is who the kubeconfig authenticates as, asked of the API
// server (a SelfSubjectReview), for the page header; an API server too old
// to answer gets a plain name. The session acts with the kubeconfig
// whatever this says.
func localUser(ctx context.Context, cfg *rest.Config) auth.User {
	fallback := auth.User{Name: "you (kubeconfig)"}
	if cfg.Impersonate.UserName != "" {
		fallback.Name = cfg.Impersonate.UserName
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fallback
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || r.Status.UserInfo.Username == "" {
		return fallback
	}
	return auth.User{Name: r.Status.UserInfo.Username, UID: r.Status.UserInfo.UID, Groups: r.Status.UserInfo.Groups}
}
