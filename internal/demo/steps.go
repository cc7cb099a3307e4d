package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/driftless/driftless/internal/testkit/gitserver"
)

func (d *demo) startCluster(ctx context.Context) (string, error) {
	dir := filepath.Join(d.dataDir, "cluster")
	p, err := startProcess("localcluster", filepath.Join(d.dataDir, "localcluster.log"), d.localcluster,
		"--data-dir", dir, "--nodes", fmt.Sprint(d.opts.Nodes), "--apply", filepath.Join(d.root, "config", "crd", "bases"))
	if err != nil {
		return "", err
	}
	d.cluster = p
	d.onStop("the local cluster", p.stop)
	d.kubeconfig = filepath.Join(dir, "kubeconfig")
	began := time.Now()
	if err := waitFor(ctx, p, 3*time.Minute, func() bool {
		_, err := os.Stat(d.kubeconfig)
		return err == nil
	}); err != nil {
		return "", fmt.Errorf("the local cluster: %w", err)
	}
	return fmt.Sprintf("local cluster ready in %.1fs (pid %d, %d nodes, logs in %s)",
		time.Since(began).Seconds(), p.pid(), d.opts.Nodes, filepath.Join(dir, "logs")), nil
}

// waitFor polls cond until it holds, p exits, ctx ends or timeout passes.
func waitFor(ctx context.Context, p *process, timeout time.Duration, cond func() bool) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-p.Exited():
			return p.exitedEarly()
		case <-deadline:
			return fmt.Errorf("not ready after %s; the log %s ends with:\n%s", timeout, p.LogPath, logTail(p.Process, 15))
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

func (d *demo) startGit(ctx context.Context) (string, error) {
	id, err := newAgeKey(filepath.Join(d.dataDir, "age.agekey"))
	if err != nil {
		return "", fmt.Errorf("generating the age key: %w", err)
	}
	d.ageIdentity = id.String()
	work := filepath.Join(d.dataDir, "work", "fleet")
	if err := copyFleet(filepath.Join(d.root, "examples", "fleet"), work); err != nil {
		return "", fmt.Errorf("copying examples/fleet: %w", err)
	}
	encrypted, err := encryptTemplates(work, id.Recipient().String())
	if err != nil {
		return "", fmt.Errorf("encrypting the fleet's secrets: %w", err)
	}
	for _, f := range encrypted {
		d.say("✔", "encrypted %s with SOPS for %s", f, id.Recipient())
	}
	if d.want, err = fleetKustomizations(filepath.Join(work, "clusters", "local")); err != nil {
		return "", err
	}
	d.want = append(d.want, systemNamespace+"/"+systemNamespace)
	d.password, err = randomPassword()
	if err != nil {
		return "", err
	}
	srv, err := gitserver.New(filepath.Join(d.dataDir, "git"), "driftless", d.password)
	if err != nil {
		return "", err
	}
	if _, err := srv.InitFromDir("fleet.git", work, "main", "Driftless Demo <demo@driftless.local>"); err != nil {
		return "", err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return "", err
	}
	d.git = srv
	d.onStop("the Git server", srv.Close)
	d.repoURL = srv.RepoURL("fleet.git")

	clients, err := newClients(d.kubeconfig)
	if err != nil {
		return "", err
	}
	d.clients = clients
	if err := clients.createSopsSecret(ctx, d.ageIdentity); err != nil {
		return "", err
	}
	return fmt.Sprintf("serving %s (user driftless); age key in %s and secret %s/%s",
		d.repoURL, filepath.Join(d.dataDir, "age.agekey"), systemNamespace, sopsSecretName), nil
}

func randomPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// freePort returns a loopback address with a port free at the moment.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (d *demo) startController(ctx context.Context) (string, error) {
	storage, err := freePort()
	if err != nil {
		return "", err
	}
	health, err := freePort()
	if err != nil {
		return "", err
	}
	if d.webAddr, err = freePort(); err != nil {
		return "", err
	}
	p, err := startProcess("driftless-controller", filepath.Join(d.dataDir, "controller.log"), d.ctrlBin,
		"--kubeconfig", d.kubeconfig,
		"--storage-path", filepath.Join(d.dataDir, "storage"), "--image-storage-path", filepath.Join(d.dataDir, "images"),
		"--storage-addr", storage, "--storage-adv-addr", storage,
		"--metrics-addr", "0", "--health-addr", health,
		"--events-listen-addr", "0", "--receiver-addr", "0",
		"--web-addr", d.webAddr, "--web-hosts", "127.0.0.1,localhost",
		"--log-encoding", "json")
	if err != nil {
		return "", err
	}
	d.controller = p
	d.onStop("driftless-controller", p.stop)
	client := &http.Client{Timeout: time.Second}
	if err := waitFor(ctx, p, time.Minute, func() bool {
		resp, err := client.Get("http://" + health + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}); err != nil {
		return "", fmt.Errorf("driftless-controller: %w", err)
	}
	return fmt.Sprintf("driftless-controller ready (pid %d, log %s, web UI http://%s/)", p.pid(), p.LogPath, d.webAddr), nil
}

func (d *demo) bootstrap(ctx context.Context) (string, error) {
	if !hasBootstrap(ctx, d.flux) {
		d.say("◎", "%s has no `bootstrap git` yet: creating the flux-system sync objects directly", d.flux)
		if err := d.clients.applySync(ctx, d.repoURL, d.password); err != nil {
			return "", err
		}
		return "flux-system GitRepository and Kustomization created", nil
	}
	if err := runBootstrap(ctx, d.out, d.flux, d.kubeconfig, d.repoURL, d.password); err != nil {
		return "", err
	}
	return "bootstrapped " + d.repoURL + " (path clusters/local)", nil
}
