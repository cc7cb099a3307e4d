package notifier

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// Bounds of a change-request comment: the pages of comments searched for
// ours, its length (hosts refuse comments over 65536 characters) and the
// metadata it lists.
const (
	maxCommentPages  = 20
	commentPageSize  = 100
	maxComment       = 65000
	maxMetadataLines = 50
	maxMetadataValue = 512
)

// hostComment is a comment of a change request.
type hostComment struct {
	ID   int64
	Body string
}

// commentHost is the part of a change-request comment notifier that
// speaks one host's API.
type commentHost interface {
	// list returns a page (from 1) of the change request's comments.
	list(ctx context.Context, number string, page int) ([]hostComment, error)
	create(ctx context.Context, number, body string) error
	update(ctx context.Context, number string, id int64, body string) error
}

// commentNotifier keeps one comment per object and provider on the change
// request the event names, updated in place.
type commentNotifier struct {
	host commentHost
	s    Settings
}

// Post writes the event into the object's comment, creating it the first
// time. Events without a change request are not this provider's.
func (n *commentNotifier) Post(ctx context.Context, event eventv1.Event) error {
	key := eventv1.Group + "/" + eventv1.MetaChangeRequestKey
	number, ok := event.Metadata[key]
	if !ok {
		return nil
	}
	if !validChangeRequest(number) {
		return &PermanentError{Err: fmt.Errorf("metadata %s %q of %s/%s is not a pull or merge request number", key, trim(number, 40), event.InvolvedObject.Kind, event.InvolvedObject.Name)}
	}
	marker := commentMarker(event, n.s.ProviderUID)
	body := commentBody(marker, event)
	for page := 1; page <= maxCommentPages; page++ {
		comments, err := n.host.list(ctx, number, page)
		if err != nil {
			return fmt.Errorf("list the comments of change request %s: %w", number, err)
		}
		for _, c := range comments {
			if firstLine(c.Body) == marker {
				if c.Body == body {
					return nil
				}
				if err := n.host.update(ctx, number, c.ID, body); err != nil {
					return fmt.Errorf("update comment %d of change request %s: %w", c.ID, number, err)
				}
				return nil
			}
		}
		if len(comments) < commentPageSize {
			break
		}
	}
	if err := n.host.create(ctx, number, body); err != nil {
		return fmt.Errorf("comment on change request %s: %w", number, err)
	}
	return nil
}

// validChangeRequest tells whether s is a pull or merge request number.
func validChangeRequest(s string) bool {
	if s == "" || len(s) > 10 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// commentMarker is the hidden first line that finds the comment again:
// the object's key and the provider's UID.
func commentMarker(event eventv1.Event, providerUID string) string {
	o := event.InvolvedObject
	return fmt.Sprintf("<!-- driftless-notification object=%s/%s/%s provider=%s -->",
		markerText(strings.ToLower(o.Kind)), markerText(o.Namespace), markerText(o.Name), markerText(providerUID))
}

// markerText keeps only the characters of Kubernetes names and UIDs, so an
// event posted from outside cannot end the marker early.
func markerText(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, trim(s, 253))
}

// firstLine is a comment's first line.
func firstLine(body string) string {
	line, _, _ := strings.Cut(body, "\n")
	return strings.TrimSuffix(line, "\r")
}

// commentBody is the comment: the marker, a heading with the outcome, the
// message in a fenced block and the metadata, within maxComment
// characters. The event's text is the tenant's: it goes inside code (no
// Markdown or HTML of it is rendered) and cannot forge a marker, which is
// only ever the first line.
func commentBody(marker string, event eventv1.Event) string {
	o := event.InvolvedObject
	outcome := "succeeded"
	if event.Severity == eventv1.EventSeverityError {
		outcome = "failed"
	}
	head := fmt.Sprintf("%s\n**%s `%s/%s`** %s: `%s`\n\n", marker,
		code(cut(o.Kind, 253)), code(cut(o.Namespace, 253)), code(cut(o.Name, 253)), outcome, code(cut(event.Reason, 253)))
	keys := make([]string, 0, len(event.Metadata))
	for k := range event.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var meta strings.Builder
	for i, k := range keys {
		if i == maxMetadataLines {
			fmt.Fprintf(&meta, "\n- (%d more)", len(keys)-i)
			break
		}
		if i == 0 {
			meta.WriteString("\n")
		}
		fmt.Fprintf(&meta, "\n- `%s`: `%s`", code(cut(k, 253)), code(cut(event.Metadata[k], maxMetadataValue)))
	}
	room := maxComment - utf8.RuneCountInString(head) - utf8.RuneCountInString(meta.String()) - 2*maxFence - 2
	return head + fence(cut(event.Message, room)) + meta.String()
}

// code makes text safe inside an inline code span: no backtick to close
// it, no line break.
func code(text string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ").Replace(text)
}

// maxFence is the longest fence of a code block; a message with longer
// runs of backticks has them replaced, so the fence cannot outgrow it.
const maxFence = 10

// fence puts text in a fenced code block whose fence is longer than any
// run of backticks in it.
func fence(text string) string {
	longest, run := 0, 0
	for _, c := range text {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest >= maxFence {
		text, longest = strings.ReplaceAll(text, "`", "'"), 0
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + "\n" + text + "\n" + f
}
