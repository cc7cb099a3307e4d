package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The UI workload (issue 21): W1's world with driftless-controller serving
// the web UI, measured as a person using it sees it. Its budgets are the
// issue's; each figure is printed next to its own.
const (
	budgetRenderP95     = 100 * time.Millisecond
	budgetHTMLBytes     = 2 << 20
	budgetBrowserLoad   = 1500 * time.Millisecond
	budgetStreamP95     = time.Second
	budgetExtraRSSMiB   = 30.0
	budgetThroughputPct = 5.0
	// uiRenderRequests is how many GET / the render figures are of,
	// uiBrowserLoads how many page loads the browser's median is of,
	// uiPages how many overview streams are held open in the last wave.
	uiRenderRequests = 20
	uiBrowserLoads   = 5
	uiPages          = 10
	// uiCostRounds is how many pairs of waves, one without and one with
	// the pages (in the order abba gives), their comparison is of.
	uiCostRounds = 2
	// uiStreamWait is how long, after the wave is Ready in the API, the
	// browser may take to show the last row before the rest count as
	// missing.
	uiStreamWait = 30 * time.Second
)

// runUI sets up W1 with the web UI on, then measures the overview's
// server render, the browser's load, stream latency over one upgrade
// wave, and the controller's cost of 10 open pages over more waves, without and
// with them in turn.
func (c config) runUI(ctx context.Context, n int) (rows []row, err error) {
	addrs, err := freeAddrs(1)
	if err != nil {
		return nil, err
	}
	webAddr := addrs[0]
	c.ctrlArgs = append(append([]string{}, c.ctrlArgs...), "--web-addr", webAddr, "--web-hosts", "127.0.0.1")
	e, err := c.setup(ctx, fmt.Sprintf("UI-n%d", n), w1Files(1))
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, n); err != nil {
		return nil, err
	}
	kss := w1Kustomizations(n)
	keys := keysOf(kss)
	base := row{Workload: "UI", N: n, Kustomizations: n, Objects: n * w1Objects}

	c.logf("UI N=%d: install", n)
	install := base
	install.Phase = "install"
	install, err = measure(ctx, e.subject(), install, func() error {
		if err := e.createAll(ctx, kss); err != nil {
			return err
		}
		return e.ks.waitAll(ctx, keys, readyAt(e.head), c.timeout)
	})
	if err != nil {
		return nil, err
	}

	origin := "http://" + webAddr
	c.logf("UI N=%d: logging in to %s", n, origin)
	ui, err := e.uiLogin(ctx, origin)
	if err != nil {
		return []row{install}, err
	}
	if err := ui.waitRows(ctx, n, 2*time.Minute); err != nil {
		return []row{install}, err
	}
	c.logf("UI N=%d: %d renders of the overview", n, uiRenderRequests)
	render, err := ui.measureRender(ctx, uiRenderRequests)
	if err != nil {
		return []row{install}, err
	}
	notes := []string{render.String()}

	b, browserMissing, err := startBrowser(ctx)
	if err != nil {
		return []row{install}, err
	}
	if b != nil {
		defer b.close()
		if err := b.setCookie(ctx, ui); err != nil {
			return []row{install}, err
		}
		c.logf("UI N=%d: %d loads in %s", n, uiBrowserLoads, browserBinary)
		loads, err := b.loadTimes(ctx, origin+"/", uiBrowserLoads)
		if err != nil {
			return []row{install}, err
		}
		notes = append(notes, formatLoad(loads))
	} else {
		notes = append(notes, browserMissing)
	}
	install.Note = strings.Join(notes, "; ")
	rows = append(rows, install)

	// Wave 1: stream latency, one browser page open.
	version := 2
	live := base
	live.Phase = "upgrade-live"
	if b == nil {
		live.Note = "stream latency: " + browserMissing
		if live, err = e.uiWave(ctx, live, keys, version); err != nil {
			return rows, err
		}
	} else {
		c.logf("UI N=%d: upgrade wave with the overview open in the browser", n)
		if live, err = e.streamWave(ctx, b, origin+"/", live, keys, version); err != nil {
			return rows, err
		}
		b.close() // its stream must not count in the next waves
	}
	rows = append(rows, live)

	// Then the same upgrade without pages and with 10 streams, in the
	// order bare, with, with, bare (and so on for more rounds): the
	// controller's RSS drifts up over a run, and this order puts each
	// kind of wave as early as the other on average, so a steady drift
	// cancels out of the comparison of their means.
	cost := costFigures{pages: uiPages, kustomizations: n}
	v := version
	for round := range uiCostRounds {
		for _, withPages := range abba(round) {
			v++
			if !withPages {
				c.logf("UI N=%d: upgrade wave without pages (round %d of %d)", n, round+1, uiCostRounds)
				bare := base
				bare.Phase = "upgrade"
				bare, rss, err := e.sampledWave(ctx, bare, keys, v, nil)
				if err != nil {
					return rows, err
				}
				rows = append(rows, bare)
				cost.add(false, bare, rss)
				continue
			}
			c.logf("UI N=%d: upgrade wave with %d overview streams open (round %d of %d)", n, uiPages, round+1, uiCostRounds)
			pages, err := ui.openStreams(ctx, uiPages)
			if err != nil {
				return rows, err
			}
			with := base
			with.Phase = fmt.Sprintf("upgrade+%dpages", uiPages)
			with, rss, err := e.sampledWave(ctx, with, keys, v, pages)
			pages.close()
			if err != nil {
				return rows, err
			}
			cost.add(true, with, rss)
			cost.bytes += pages.received()
			cost.resyncs += pages.resyncs.Load()
			rows = append(rows, with)
		}
	}
	rows[len(rows)-1].Note = cost.String()
	return rows, nil
}

// abba is the order of a cost round's two waves, false for the one
// without pages: even rounds start without, odd ones with.
func abba(round int) [2]bool {
	if round%2 == 0 {
		return [2]bool{false, true}
	}
	return [2]bool{true, false}
}

// uiWave is one W1 upgrade to version v, measured.
func (e *env) uiWave(ctx context.Context, r row, keys []string, v int) (row, error) {
	head, err := e.commitWave(v)
	if err != nil {
		return r, err
	}
	return e.measureWave(ctx, r, keys, head)
}

// commitWave commits W1's files at version v and returns the commit.
func (e *env) commitWave(v int) (string, error) {
	return e.fleet.commit(w1Files(v), fmt.Sprintf("bench: upgrade every object to v%d", v))
}

// measureWave times pushing head and a requestedAt on the GitRepository
// until every Kustomization of keys is Ready at it.
func (e *env) measureWave(ctx context.Context, r row, keys []string, head string) (row, error) {
	return measure(ctx, e.subject(), r, func() error {
		if err := e.fleet.push(); err != nil {
			return err
		}
		if err := requestReconcile(ctx, e.cluster.dynamic, fleetSource); err != nil {
			return err
		}
		return e.ks.waitAll(ctx, keys, readyAt(head), e.cfg.timeout)
	})
}

// sampledWave is uiWave with the controller's RSS sampled every 100 ms:
// peak RSS (VmHWM) only grows over a run, so the second wave's cost is
// read from its own samples. It returns the largest sample; with streams,
// it fails when one of them ended during the wave.
func (e *env) sampledWave(ctx context.Context, r row, keys []string, v int, streams *uiStreams) (row, float64, error) {
	sctx, stop := context.WithCancel(ctx)
	peak := make(chan float64, 1)
	go func() { peak <- sampleRSS(sctx, e.ctrl.proc.PID(), 100*time.Millisecond) }()
	r, err := e.uiWave(ctx, r, keys, v)
	stop()
	top := <-peak
	if err == nil && streams != nil {
		err = streams.check()
	}
	return r, top, err
}

// sampleRSS reads pid's RSS every period until ctx ends and returns the
// largest reading in MiB (0 when none could be read).
func sampleRSS(ctx context.Context, pid int, period time.Duration) float64 {
	var top float64
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		if rss, err := procRSSMiB(pid); err == nil {
			top = max(top, rss)
		}
		select {
		case <-ctx.Done():
			return top
		case <-tick.C:
		}
	}
}
