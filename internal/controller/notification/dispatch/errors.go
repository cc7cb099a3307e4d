// Package dispatch takes each event of a Flux object, wherever it comes
// from (a controller of this process, or a POST to the ingestion
// endpoint), through one path: the rate limiter, the Alerts that match it,
// and a delivery queue per Provider that retries and never loses an event
// silently.
package dispatch

import "errors"

// Submit's refusals: the ingestion endpoint answers 429 to the first and
// 503 to the second; a controller of this process counts and logs them.
var (
	// ErrRateLimited: the same event (object, message, revisions, token)
	// was dispatched less than --rate-limit-interval ago.
	ErrRateLimited = errors.New("event rate limited: the same event was dispatched less than --rate-limit-interval ago")
	// ErrQueueFull: the dispatcher's bounded queue has no room.
	ErrQueueFull = errors.New("event queue full")
)
