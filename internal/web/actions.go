package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/auth"
)

// DefaultActionTimeout is how long the page waits for the controller to
// handle a reconcile request before it says that nothing handled it.
const DefaultActionTimeout = 2 * time.Minute

// Actor sends a viewer's actions to the API server as that viewer, never
// with the UI's own identity (internal/web/actor). The UI checks nothing
// itself before a POST goes out: the API server's answer is the answer,
// so there is no second rule that could drift from RBAC.
type Actor interface {
	// Patch sends the merge patch to the object as sess's user.
	Patch(ctx context.Context, sess auth.Session, k kinds.Kind, key types.NamespacedName, patch []byte) error
	// MayPatch tells whether sess's user may patch the object: the page
	// shows action buttons only then.
	MayPatch(ctx context.Context, sess auth.Session, k kinds.Kind, key types.NamespacedName) (bool, error)
}

// Query parameters of the page an action redirects to: which action, and
// the token of its reconcile request, which the page follows. Not
// "token": that is `flux ui`'s one-time login token.
const (
	queryActed = "acted"
	queryToken = "request"
)

// actionsData is the object page's action block: the buttons the viewer
// may use, and how the last request of this page is going.
type actionsData struct {
	// Path is the object page's path, which the forms post under.
	Path string
	// CSRF is the viewer's token for the forms.
	CSRF    string
	Buttons []kinds.Action
	// Note says why there are no buttons, when it is worth saying.
	Note    string
	Request *requestData
}

// requestData is the feedback on one action: requested, handled, then
// Ready or failed, or not handled in time.
type requestData struct {
	Label string
	// State is one of waiting, handled, ready, failed, timeout, done.
	State string
	Text  string
	When  timeCell
}

// actionRoutes adds the actions: POST only, so GET never changes anything.
func (s *server) actionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /o/{group}/{kind}/{namespace}/{name}/{action}", s.act)
}

// act carries out one action as the viewer and redirects back to the
// object page, which then follows the request.
func (s *server) act(w http.ResponseWriter, r *http.Request) {
	v := viewer(r)
	if !v.LoggedIn() || v.User.Anonymous {
		s.deny(w, r, http.StatusUnauthorized, "Log in", msgLogInToAct)
		return
	}
	if err := auth.CheckCSRF(r, v.Session); err != nil {
		s.deny(w, r, http.StatusForbidden, "Forbidden", err.Error())
		return
	}
	k, ok := kinds.ByGroupKind(schema.GroupKind{Group: r.PathValue("group"), Kind: r.PathValue("kind")})
	if !ok {
		s.notFound(w, r)
		return
	}
	key := types.NamespacedName{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	obj := k.New()
	if err := s.store.Get(r.Context(), key, obj); err != nil {
		s.notFound(w, r)
		return
	}
	if s.actor == nil {
		s.deny(w, r, http.StatusNotImplemented, "No actions here", "this UI was started without a way to act for you")
		return
	}
	name := r.PathValue("action")
	a, ok := k.ActionNamed(obj, name)
	if !ok {
		s.deny(w, r, http.StatusConflict, "Not done", actionRefusal(k, key, obj, name))
		return
	}
	token := kinds.RequestToken(s.now())
	if a.Name == kinds.ActionReconcileWithSource.Name {
		if err := s.reconcileSources(r.Context(), v.Session, k, obj, token); err != nil {
			s.actionFailed(w, r, v, err)
			return
		}
	}
	if err := s.actor.Patch(r.Context(), v.Session, k, key, k.Patch(a, token)); err != nil {
		s.actionFailed(w, r, v, fmt.Errorf("%s %s %s: %w", a.Label, k.Kind, key, err))
		return
	}
	q := url.Values{queryActed: {a.Name}}
	if a.Requests {
		q.Set(queryToken, token)
	}
	http.Redirect(w, r, objectPath(k, key.Namespace, key.Name)+"?"+q.Encode(), http.StatusSeeOther)
}

// actionRefusal says why the object does not offer the action: above all,
// that a reconcile request to a suspended object would be ignored.
func actionRefusal(k kinds.Kind, key types.NamespacedName, obj kinds.Object, name string) string {
	if k.IsSuspended(obj) && (name == kinds.ActionReconcile.Name || name == kinds.ActionReconcileWithSource.Name) {
		return fmt.Sprintf("%s %s is suspended: a reconcile request would be ignored. Nothing was changed; "+
			"use “Resume and reconcile” on its page (flux resume %s %s -n %s).",
			k.Kind, key, k.Command.Path(), key.Name, key.Namespace)
	}
	var labels []string
	for _, a := range k.Actions(obj) {
		labels = append(labels, a.Label)
	}
	offered := strings.Join(labels, ", ")
	if offered == "" {
		offered = "none"
	}
	return fmt.Sprintf("%s %s does not offer %q now (it offers: %s). Nothing was changed.", k.Kind, key, name, offered)
}

// reconcileSources asks the object's sources for a reconciliation first,
// as `flux reconcile --with-source` does: a HelmRelease's HelmChart after
// the chart's own source, any other kind's sourceRef.
func (s *server) reconcileSources(ctx context.Context, sess auth.Session, k kinds.Kind, obj kinds.Object, token string) error {
	var refs []kinds.Ref
	if hr, ok := obj.(*helmv2.HelmRelease); ok {
		if chart, ok := kinds.HelmReleaseChart(hr); ok {
			ck := kinds.HelmChart()
			c := ck.New()
			if err := s.store.Get(ctx, types.NamespacedName{Namespace: chart.Namespace, Name: chart.Name}, c); err != nil {
				return fmt.Errorf("the HelmChart %s/%s of HelmRelease %s/%s cannot be read (the controller makes it from "+
					"spec.chart on its first reconciliation; use Reconcile until then): %w", chart.Namespace, chart.Name, hr.Namespace, hr.Name, err)
			}
			refs = append(refs, ck.Source(c), kinds.Ref{Kind: ck.Kind, APIVersion: ck.GroupVersion().String(), Namespace: chart.Namespace, Name: chart.Name})
		}
	}
	if refs == nil {
		refs = []kinds.Ref{k.Source(obj)}
	}
	for _, ref := range refs {
		src, ok := kinds.ByGroupKind(ref.GroupKind())
		if !ok {
			return fmt.Errorf("reconciling a %s source is not supported yet; use Reconcile", ref.Kind)
		}
		key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
		if err := s.actor.Patch(ctx, sess, src, key, kinds.RequestPatch(token)); err != nil {
			return fmt.Errorf("reconcile the source %s %s first: %w", src.Kind, key, err)
		}
	}
	return nil
}

// actionFailed answers with the API server's refusal in its own words; a
// token the API server no longer accepts ends the session, and the
// visitor logs in again with nothing done.
func (s *server) actionFailed(w http.ResponseWriter, r *http.Request, v Viewer, err error) {
	var status apierrors.APIStatus
	switch {
	case apierrors.IsUnauthorized(err):
		s.sess.sessions.Delete(v.Session.ID)
		http.SetCookie(w, s.sess.sessions.LogoutCookie(r.TLS != nil))
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case apierrors.IsForbidden(err):
		s.deny(w, r, http.StatusForbidden, "Refused by the API server", err.Error())
	case apierrors.IsNotFound(err):
		s.deny(w, r, http.StatusNotFound, "Not found", err.Error())
	case errors.As(err, &status):
		s.deny(w, r, http.StatusBadGateway, "Not done", "the API server answered: "+err.Error())
	default:
		s.log.Error("action", "user", v.User.Name, "error", err)
		s.deny(w, r, http.StatusBadGateway, "Not done", err.Error())
	}
}

// actions is the action block of obj's page for the viewer in ctx, with
// the feedback on the request q names.
func (s *server) actions(ctx context.Context, k kinds.Kind, obj kinds.Object, q url.Values) actionsData {
	key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}
	d := actionsData{Path: objectPath(k, key.Namespace, key.Name), Request: s.requestState(k, obj, q)}
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	switch {
	case s.actor == nil:
		return d
	case !v.LoggedIn() || v.User.Anonymous:
		d.Note = "Log in to act on this object."
		return d
	}
	offered := k.Actions(obj)
	if len(offered) == 0 {
		return d
	}
	ok, err := s.actor.MayPatch(ctx, v.Session, k, key)
	switch {
	case err != nil:
		s.log.Error("access review for actions", "user", v.User.Name, "error", err)
		d.Note = "Could not check whether you may act on this object: an access review failed."
	case !ok:
		d.Note = "You may not patch this object, so there is nothing you can do here."
	default:
		d.Buttons, d.CSRF = offered, v.CSRF
	}
	return d
}

// requestState follows the action the page was redirected with: a
// reconcile request is waiting until lastHandledReconcileAt reaches its
// token, then Ready or failed; past the action timeout it says that no
// controller handled it.
func (s *server) requestState(k kinds.Kind, obj kinds.Object, q url.Values) *requestData {
	name := q.Get(queryActed)
	if name == "" {
		return nil
	}
	var a kinds.Action
	for _, c := range append([]kinds.Action{kinds.ActionReconcile, kinds.ActionReconcileWithSource, kinds.ActionSuspend, kinds.ActionResume}, k.ExtraActions...) {
		if c.Name == name {
			a = c
		}
	}
	if a.Name == "" {
		return nil
	}
	d := &requestData{Label: a.Label}
	if !a.Requests {
		d.State, d.Text = "done", "Suspended: the controller will not reconcile it until it is resumed."
		if !k.IsSuspended(obj) {
			d.State, d.Text = "done", "Suspend was sent, but the object is not suspended now: someone resumed it since."
		}
		return d
	}
	at, err := time.Parse(time.RFC3339Nano, q.Get(queryToken))
	if err != nil {
		return nil
	}
	now := s.now()
	d.When = newTimeCell(now, at)
	if k.NotReconciled || (k.Static != nil && k.Static(obj) != "") {
		d.State, d.Text = "done", "Done. No controller reconciles this object, so there is nothing to wait for."
		return d
	}
	if !handled(obj, at) {
		if now.Sub(at) < s.actionTimeout {
			d.State, d.Text = "waiting", "Requested; waiting for the controller to handle it."
			return d
		}
		d.State = "timeout"
		d.Text = fmt.Sprintf("Requested at %s, not handled after %s: is the controller running? Run `flux check`.",
			at.UTC().Format(time.TimeOnly), s.actionTimeout)
		return d
	}
	ready := apimeta.FindStatusCondition(kinds.Conditions(obj), "Ready")
	switch {
	case ready == nil || ready.Status == "Unknown":
		d.State, d.Text = "handled", "Handled; reconciling."
	case ready.Status == "True":
		d.State, d.Text = "ready", "Handled and Ready: "+ready.Message
	default:
		d.State, d.Text = "failed", "Handled, and it failed: "+ready.Message
	}
	return d
}

// handled tells whether the controller has handled the request made at
// at: lastHandledReconcileAt holds its token, or a later one.
func handled(obj kinds.Object, at time.Time) bool {
	rec, ok := kinds.Reconciled(obj)
	if !ok {
		return false
	}
	last := rec.GetLastHandledReconcileRequest()
	if last == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, last)
	if err != nil {
		return false
	}
	return !t.Before(at)
}

// pendingUntil is when a page following q's request must be rendered
// again even if the object does not change: the moment it times out.
func (s *server) pendingUntil(k kinds.Kind, obj kinds.Object, q url.Values) (time.Time, bool) {
	r := s.requestState(k, obj, q)
	if r == nil || r.State != "waiting" {
		return time.Time{}, false
	}
	at, _ := time.Parse(time.RFC3339Nano, q.Get(queryToken))
	return at.Add(s.actionTimeout), true
}
