package dispatch

import (
	"context"
	"fmt"
	"regexp"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// AlertSourceKindField indexes Alerts by the kinds of their eventSources,
// so an event is matched against the Alerts that name its kind only.
const AlertSourceKindField = "driftless.notification.alert.eventSourceKind"

// IndexFields registers the index the dispatcher lists Alerts by; call it
// on the manager's field indexer before the cache starts.
func IndexFields(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &v1beta3.Alert{}, AlertSourceKindField, alertSourceKinds); err != nil {
		return fmt.Errorf("index Alerts by %s: %w", AlertSourceKindField, err)
	}
	return nil
}

// alertSourceKinds are the values of an Alert under AlertSourceKindField.
func alertSourceKinds(obj client.Object) []string {
	alert, ok := obj.(*v1beta3.Alert)
	if !ok {
		return nil
	}
	var kinds []string
	seen := map[string]bool{}
	for _, src := range alert.Spec.EventSources {
		if !seen[src.Kind] {
			seen[src.Kind] = true
			kinds = append(kinds, src.Kind)
		}
	}
	return kinds
}

// labelsFunc returns the labels of the event's object, fetched once.
type labelsFunc func() (map[string]string, error)

// severityAccepts tells whether an Alert of the severity forwards an event
// of the other: info forwards everything, error only errors.
func severityAccepts(alertSeverity, eventSeverity string) bool {
	return alertSeverity == "" || alertSeverity == v1beta3.EventSeverityInfo || alertSeverity == eventSeverity
}

// sourceMatches tells whether one of an Alert's eventSources selects the
// event's object: same kind, same namespace (the Alert's when unset; only
// the Alert's own under lockdown), the name or '*', and for '*' the
// matchLabels against the object's labels.
func sourceMatches(alert *v1beta3.Alert, src notificationv1.CrossNamespaceObjectReference, e *eventv1.Event, noCrossNamespace bool, objLabels labelsFunc) (bool, error) {
	ns := src.Namespace
	if ns == "" {
		ns = alert.Namespace
	}
	if noCrossNamespace && ns != alert.Namespace {
		return false, nil
	}
	obj := e.InvolvedObject
	if obj.Kind != src.Kind || obj.Namespace != ns {
		return false, nil
	}
	if src.Name != "*" {
		return obj.Name == src.Name, nil
	}
	if len(src.MatchLabels) == 0 {
		return true, nil
	}
	have, err := objLabels()
	if err != nil {
		return false, err
	}
	for k, v := range src.MatchLabels {
		if got, ok := have[k]; !ok || got != v {
			return false, nil
		}
	}
	return true, nil
}

// alertSelects tells whether the Alert selects the event by severity and
// eventSources (not yet by its message).
func alertSelects(alert *v1beta3.Alert, e *eventv1.Event, noCrossNamespace bool, objLabels labelsFunc) (bool, error) {
	if !severityAccepts(alert.Spec.EventSeverity, e.Severity) {
		return false, nil
	}
	var firstErr error
	for _, src := range alert.Spec.EventSources {
		ok, err := sourceMatches(alert, src, e, noCrossNamespace, objLabels)
		if ok {
			return true, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return false, firstErr
}

// patterns are an Alert's inclusionList and exclusionList, compiled.
type patterns struct {
	include, exclude []*regexp.Regexp
	// invalid names the field of a pattern that does not compile, and why.
	invalid string
}

// compilePatterns compiles the Alert's lists, stopping at the first
// pattern that does not compile.
func compilePatterns(alert *v1beta3.Alert) patterns {
	var p patterns
	for _, list := range []struct {
		field    string
		patterns []string
		into     *[]*regexp.Regexp
	}{
		{"spec.inclusionList", alert.Spec.InclusionList, &p.include},
		{"spec.exclusionList", alert.Spec.ExclusionList, &p.exclude},
	} {
		for i, expr := range list.patterns {
			re, err := regexp.Compile(expr)
			if err != nil {
				return patterns{invalid: fmt.Sprintf("%s[%d] of Alert %s/%s is not a valid Go regular expression: %v; the Alert sends nothing until it is fixed",
					list.field, i, alert.Namespace, alert.Name, err)}
			}
			*list.into = append(*list.into, re)
		}
	}
	return p
}

// accepts tells whether the message passes the lists: it matches one of
// inclusionList (when there is one) and none of exclusionList.
func (p patterns) accepts(message string) bool {
	if len(p.include) > 0 {
		included := false
		for _, re := range p.include {
			if re.MatchString(message) {
				included = true
				break
			}
		}
		if !included {
			return false
		}
	}
	for _, re := range p.exclude {
		if re.MatchString(message) {
			return false
		}
	}
	return true
}

// maxCompiled bounds the compiled-pattern cache; past it, it starts over.
const maxCompiled = 10000

// compiler keeps each Alert's patterns, compiled once per generation.
type compiler struct {
	mu      sync.Mutex
	byAlert map[types.UID]compiledAlert
}

type compiledAlert struct {
	generation int64
	patterns   patterns
}

func newCompiler() *compiler { return &compiler{byAlert: map[types.UID]compiledAlert{}} }

// get returns the Alert's patterns, compiling them on a new generation.
func (c *compiler) get(alert *v1beta3.Alert) patterns {
	c.mu.Lock()
	defer c.mu.Unlock()
	if got, ok := c.byAlert[alert.UID]; ok && got.generation == alert.Generation {
		return got.patterns
	}
	p := compilePatterns(alert)
	if len(c.byAlert) >= maxCompiled {
		c.byAlert = map[types.UID]compiledAlert{}
	}
	c.byAlert[alert.UID] = compiledAlert{generation: alert.Generation, patterns: p}
	return p
}
