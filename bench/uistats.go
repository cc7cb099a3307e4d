package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile is the p-th percentile (0 < p ≤ 100) of xs by nearest rank:
// the smallest value at least p % of xs are at or below. false for none.
func percentile(xs []float64, p float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1], true
}

// formatLoad is the browser's load figures: the median of loads.
func formatLoad(loads []time.Duration) string {
	ms := make([]float64, 0, len(loads))
	for _, d := range loads {
		ms = append(ms, float64(d.Microseconds())/1000)
	}
	med, ok := percentile(ms, 50)
	if !ok {
		return "browser load: no loads"
	}
	d := msDuration(med)
	return fmt.Sprintf("browser load event: median %s of %d %s", msText(d), len(loads),
		verdict(d <= budgetBrowserLoad, "≤ "+msText(budgetBrowserLoad)))
}

// streamLatency is the stream latency of one wave: per object, the time
// from its new status in the API to its row showing it in the page.
type streamLatency struct {
	latencies []float64 // ms, of the objects seen at both ends
	missing   int       // objects the page never showed (or the watch never saw)
	objects   int
}

// streamFigures pairs the watch's times (api) and the page's (shown),
// both ms since the Unix epoch by object name, over objects objects.
func streamFigures(api, shown map[string]float64, objects int) streamLatency {
	s := streamLatency{objects: objects}
	for name, at := range api {
		if t, ok := shown[name]; ok {
			s.latencies = append(s.latencies, t-at)
		}
	}
	slices.Sort(s.latencies)
	s.missing = objects - len(s.latencies)
	return s
}

func (s streamLatency) String() string {
	p50, ok := percentile(s.latencies, 50)
	if !ok {
		return fmt.Sprintf("stream latency: no row of %d showed the new revision within %s", s.objects, uiStreamWait)
	}
	p95, _ := percentile(s.latencies, 95)
	text := fmt.Sprintf("stream latency (API status to row in the page, %d rows): p50 %s, p95 %s %s",
		len(s.latencies), msText(msDuration(p50)), msText(msDuration(p95)), verdict(msDuration(p95) <= budgetStreamP95, "≤ "+msText(budgetStreamP95)))
	if s.missing > 0 {
		text += fmt.Sprintf("; %d of %d rows not shown within %s", s.missing, s.objects, uiStreamWait)
	}
	return text
}
