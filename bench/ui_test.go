package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	xs := []float64{9, 1, 8, 2, 7, 3, 6, 4, 5, 10}
	for _, c := range []struct {
		p, want float64
	}{{50, 5}, {95, 10}, {90, 9}, {10, 1}, {1, 1}, {100, 10}} {
		if got, ok := percentile(xs, c.p); !ok || got != c.want {
			t.Errorf("p%.0f of 1..10 = %v (%v), want %v", c.p, got, ok, c.want)
		}
	}
	if xs[0] != 9 {
		t.Error("percentile sorted its argument in place")
	}
	if _, ok := percentile(nil, 50); ok {
		t.Error("percentile of nothing says it has a value")
	}
	if got, _ := percentile([]float64{42}, 95); got != 42 {
		t.Errorf("p95 of one value = %v, want it", got)
	}
}

func TestParseFlagsUIWorkload(t *testing.T) {
	f, err := parseFlags([]string{"-workload", "ui", "-n", "50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.workloads) != 1 || f.workloads[0] != "UI" || len(f.sizesOf("UI")) != 1 || f.sizesOf("UI")[0] != 50 {
		t.Errorf("-workload ui -n 50: workloads %v, sizes %v", f.workloads, f.sizesOf("UI"))
	}
	if fluxControllers("UI") != nil {
		t.Error("UI has a Flux run: -flux would run it twice")
	}
	f, _ = parseFlags(nil, io.Discard)
	for _, w := range f.workloads {
		if w == "UI" {
			t.Error("UI runs by default; it starts a browser and is named only")
		}
	}
	_, err = parseFlags([]string{"-workload", "UX"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"UX"`) {
		t.Errorf("-workload UX: %v, want it refused by name", err)
	}
}

func TestCountRowsAndGunzip(t *testing.T) {
	page := `<table><tbody id="rows" sse-swap="rows"><tr id="row-0a" sse-swap="row-0a"><td>a</td></tr>
<tr id="row-0b" sse-swap="row-0b"><td>b</td></tr></tbody></table><tr id="other">`
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(page))
	_ = zw.Close()
	for _, c := range []struct {
		body []byte
		gz   bool
	}{{[]byte(page), false}, {zipped.Bytes(), true}} {
		got, err := html(c.body, c.gz)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != page || countRows(got) != 2 {
			t.Errorf("gzipped %v: %d rows in %q, want 2 in the page", c.gz, countRows(got), got)
		}
	}
	if _, err := html([]byte(page), true); err == nil {
		t.Error("a plain body said to be gzipped was read without an error")
	}
}

func TestStreamFiguresPairsByName(t *testing.T) {
	api := map[string]float64{"ks-0000": 1000, "ks-0001": 2000, "ks-0002": 3000}
	shown := map[string]float64{"ks-0000": 1100, "ks-0001": 2300, "ks-0009": 1}
	s := streamFigures(api, shown, 4)
	if len(s.latencies) != 2 || s.latencies[0] != 100 || s.latencies[1] != 300 || s.missing != 2 {
		t.Fatalf("latencies %v, missing %d; want [100 300] and 2 missing", s.latencies, s.missing)
	}
	text := s.String()
	for _, want := range []string{"2 rows", "p50 100.0 ms", "p95 300.0 ms", "(budget ≤ 1000.0 ms: ok)", "2 of 4 rows not shown"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}
	if got := streamFigures(api, nil, 3).String(); !strings.Contains(got, "no row of 3") {
		t.Errorf("nothing shown: %q", got)
	}
	if got := streamFigures(map[string]float64{"a": 0}, map[string]float64{"a": 1500}, 1).String(); !strings.Contains(got, "OVER") {
		t.Errorf("p95 1.5 s against 1 s: %q, want OVER", got)
	}
}

func TestFiguresPrintTheirBudgets(t *testing.T) {
	r := renderFigures{p50: 20 * time.Millisecond, p95: 150 * time.Millisecond, html: 3 << 20, gzipped: 200 << 10, requests: 20, rows: 1001}
	text := r.String()
	for _, want := range []string{"1001 rows", "p50 20.0 ms", "p95 150.0 ms (budget ≤ 100.0 ms: OVER)", "HTML 3.00 MiB (budget ≤ 2 MiB: OVER)", "200.0 KiB gzipped"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}
	load := formatLoad([]time.Duration{900 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second, 400 * time.Millisecond, 500 * time.Millisecond})
	if !strings.Contains(load, "median 500.0 ms of 5 (budget ≤ 1500.0 ms: ok)") {
		t.Errorf("load: %q", load)
	}
	cost := costFigures{pages: 10, kustomizations: 100, bytes: 2048, resyncs: 3}
	cost.add(false, row{CPUSeconds: 4, WallSeconds: 5}, 100)
	cost.add(true, row{CPUSeconds: 5, WallSeconds: 5}, 130)
	cost.add(false, row{CPUSeconds: 6, WallSeconds: 5}, 110)
	cost.add(true, row{CPUSeconds: 7, WallSeconds: 5.25}, 150)
	text = cost.String()
	for _, want := range []string{"10 open pages (2 waves with, 2 without; 2.0 KiB streamed, 3 resyncs)", "RSS peak 140 MiB against 105 MiB without (mean of the waves' largest samples), extra +35.0 MiB (budget ≤ 30 MiB: OVER)",
		"CPU 6.0 s a wave against 5.0 s, extra +1.0 s", "throughput 19.5 KS/s against 20.0 KS/s, 2.4 % lower (budget within 5 %: ok)"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}
}

// TestABBA: each kind of wave comes first in every other round, so over
// two rounds both kinds sit, on average, at the same point of the run.
func TestABBA(t *testing.T) {
	var order []bool
	for round := range 2 {
		pair := abba(round)
		order = append(order, pair[:]...)
	}
	if want := []bool{false, true, true, false}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestFollowStreamCountsAndResyncs(t *testing.T) {
	stream := "event: row-0a\ndata: <tr id=\"row-0a\"></tr>\n\nevent: resync\ndata: \n\n: heartbeat\n\nevent: resync\r\ndata: \r\n\r\nevent: count\ndata: resync"
	var count atomic.Int64
	resyncs := 0
	n, err := followStream(strings.NewReader(stream), &count, func() { resyncs++ })
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(stream)) || count.Load() != n || resyncs != 2 {
		t.Errorf("read %d bytes (counted %d), %d resyncs; want %d bytes and 2 resyncs", n, count.Load(), resyncs, len(stream))
	}
}
