package cli

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

const none = "<none>"

// describer renders one object the way kubectl describe does: aligned
// "Key: value" sections, then tables for conditions and events.
type describer struct {
	buf bytes.Buffer
	age func(time.Time) string
}

// pair is one "Key: value" line.
type pair struct{ key, value string }

// section writes a title (when not empty) and its pairs, keys aligned.
func (d *describer) section(title string, indent int, pairs ...pair) {
	if title != "" {
		fmt.Fprintf(&d.buf, "%s%s:\n", strings.Repeat(" ", indent), title)
		indent += 2
	}
	width := 0
	for _, p := range pairs {
		width = max(width, len(p.key))
	}
	for _, p := range pairs {
		v := p.value
		if v == "" {
			v = none
		}
		fmt.Fprintf(&d.buf, "%s%-*s  %s\n", strings.Repeat(" ", indent), width+1, p.key+":", v)
	}
}

// table writes a titled table with a dashed line under its header.
func (d *describer) table(title string, header []string, rows [][]string) {
	if len(rows) == 0 {
		fmt.Fprintf(&d.buf, "%s:  %s\n", title, none)
		return
	}
	fmt.Fprintf(&d.buf, "%s:\n", title)
	tw := newTabWriter(&d.buf)
	dashes := make([]string, len(header))
	for i, h := range header {
		dashes[i] = strings.Repeat("-", len(h))
	}
	for _, r := range append([][]string{header, dashes}, rows...) {
		fmt.Fprint(tw, "  ")
		writeRow(tw, r...)
	}
	_ = tw.Flush()
}

func (d *describer) describe(obj readObject, kind string, events []corev1.Event) {
	d.section("", 0,
		pair{"Name", obj.GetName()},
		pair{"Namespace", obj.GetNamespace()},
		pair{"Kind", kind},
		pair{"Labels", mapString(obj.GetLabels())},
		pair{"Annotations", mapString(obj.GetAnnotations())},
		pair{"Created", d.age(obj.GetCreationTimestamp().Time) + " ago"},
	)
	switch o := obj.(type) {
	case *kustomizev1.Kustomization:
		d.kustomization(o)
	case *sourcev1.GitRepository:
		d.gitRepository(o)
	}
	d.conditions(obj.GetConditions())
	if k, ok := obj.(*kustomizev1.Kustomization); ok {
		d.inventory(k.Status.Inventory)
	}
	d.events(events)
}

func (d *describer) kustomization(k *kustomizev1.Kustomization) {
	s := k.Spec
	var deps []string
	for _, dep := range s.DependsOn {
		if dep.Namespace != "" {
			deps = append(deps, dep.Namespace+"/"+dep.Name)
		} else {
			deps = append(deps, dep.Name)
		}
	}
	var checks []string
	for _, h := range s.HealthChecks {
		checks = append(checks, h.Kind+"/"+h.Namespace+"/"+h.Name)
	}
	d.section("Spec", 0,
		pair{"Source", sourceRefString(k)},
		pair{"Path", s.Path},
		pair{"Interval", s.Interval.Duration.String()},
		pair{"Retry Interval", durationString(s.RetryInterval)},
		pair{"Timeout", durationString(s.Timeout)},
		pair{"Prune", strconv.FormatBool(s.Prune)},
		pair{"Wait", strconv.FormatBool(s.Wait)},
		pair{"Force", strconv.FormatBool(s.Force)},
		pair{"Suspend", strconv.FormatBool(s.Suspend)},
		pair{"Target Namespace", s.TargetNamespace},
		pair{"Service Account", s.ServiceAccountName},
		pair{"Depends On", strings.Join(deps, ", ")},
		pair{"Health Checks", strings.Join(checks, ", ")},
		pair{"Decryption", decryptionString(s.Decryption)},
		pair{"Post Build", postBuildString(s.PostBuild)},
	)
	d.section("Status", 0,
		pair{"Observed Generation", fmt.Sprintf("%d (generation %d)", k.Status.ObservedGeneration, k.Generation)},
		pair{"Last Applied Revision", k.Status.LastAppliedRevision},
		pair{"Last Attempted Revision", k.Status.LastAttemptedRevision},
		pair{"Last Handled Reconcile", k.Status.LastHandledReconcileAt},
	)
}

func (d *describer) gitRepository(g *sourcev1.GitRepository) {
	s := g.Spec
	secret := ""
	if s.SecretRef != nil {
		secret = s.SecretRef.Name
	}
	ignore := ""
	if s.Ignore != nil {
		ignore = strings.Join(strings.Split(strings.TrimSpace(*s.Ignore), "\n"), ", ")
	}
	verify := ""
	if s.Verification != nil {
		verify = string(s.Verification.Mode) + " (keys from Secret " + s.Verification.SecretRef.Name + ")"
	}
	d.section("Spec", 0,
		pair{"URL", s.URL},
		pair{"Ref", gitRefString(s.Reference)},
		pair{"Interval", s.Interval.Duration.String()},
		pair{"Timeout", durationString(s.Timeout)},
		pair{"Secret", secret},
		pair{"Provider", s.Provider},
		pair{"Suspend", strconv.FormatBool(s.Suspend)},
		pair{"Recurse Submodules", strconv.FormatBool(s.RecurseSubmodules)},
		pair{"Sparse Checkout", strings.Join(s.SparseCheckout, ", ")},
		pair{"Ignore", ignore},
		pair{"Verify", verify},
	)
	d.section("Status", 0,
		pair{"Observed Generation", fmt.Sprintf("%d (generation %d)", g.Status.ObservedGeneration, g.Generation)},
		pair{"Last Handled Reconcile", g.Status.LastHandledReconcileAt},
	)
	d.artifact(g.Status.Artifact)
}

func (d *describer) artifact(a *meta.Artifact) {
	if a == nil {
		fmt.Fprintf(&d.buf, "Artifact:  %s\n", none)
		return
	}
	size := ""
	if a.Size != nil {
		size = strconv.FormatInt(*a.Size, 10) + " bytes"
	}
	d.section("Artifact", 0,
		pair{"Revision", a.Revision},
		pair{"Digest", a.Digest},
		pair{"URL", a.URL},
		pair{"Size", size},
		pair{"Last Update", d.age(a.LastUpdateTime.Time) + " ago"},
	)
}

func (d *describer) conditions(conds []metav1.Condition) {
	rows := make([][]string, 0, len(conds))
	for _, c := range conds {
		rows = append(rows, []string{c.Type, string(c.Status), c.Reason, d.age(c.LastTransitionTime.Time), c.Message})
	}
	d.table("Conditions", []string{"Type", "Status", "Reason", "Age", "Message"}, rows)
}

func (d *describer) inventory(inv *kustomizev1.ResourceInventory) {
	if inv == nil || len(inv.Entries) == 0 {
		fmt.Fprintf(&d.buf, "Inventory:  %s\n", none)
		return
	}
	lines := make([]string, 0, len(inv.Entries))
	for _, e := range inv.Entries {
		lines = append(lines, inventoryLine(e.ID))
	}
	sort.Strings(lines)
	fmt.Fprintf(&d.buf, "Inventory (%d):\n", len(lines))
	for _, l := range lines {
		fmt.Fprintf(&d.buf, "  %s\n", l)
	}
}

// inventoryLine turns '<namespace>_<name>_<group>_<kind>' into Kind/ns/name
// (Kind/name for cluster-scoped objects).
func inventoryLine(id string) string {
	parts := strings.Split(id, "_")
	if len(parts) != 4 {
		return id
	}
	ns, name, kind := parts[0], parts[1], parts[3]
	if ns == "" {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

func (d *describer) events(events []corev1.Event) {
	rows := make([][]string, 0, len(events))
	for _, e := range events {
		age := d.age(eventTime(e))
		if e.Count > 1 {
			first := e.FirstTimestamp.Time
			if first.IsZero() {
				first = e.CreationTimestamp.Time
			}
			age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, d.age(first))
		}
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		rows = append(rows, []string{e.Type, e.Reason, age, from, e.Message})
	}
	d.table("Events", []string{"Type", "Reason", "Age", "From", "Message"}, rows)
}

func mapString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ", ")
}

func durationString(d *metav1.Duration) string {
	if d == nil {
		return ""
	}
	return d.Duration.String()
}

func decryptionString(dec *kustomizev1.Decryption) string {
	if dec == nil {
		return ""
	}
	if dec.SecretRef != nil {
		return dec.Provider + " (keys from Secret " + dec.SecretRef.Name + ")"
	}
	return dec.Provider
}

func postBuildString(pb *kustomizev1.PostBuild) string {
	if pb == nil {
		return ""
	}
	keys := make([]string, 0, len(pb.Substitute))
	for k := range pb.Substitute {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var from []string
	for _, s := range pb.SubstituteFrom {
		from = append(from, s.Kind+"/"+s.Name)
	}
	return fmt.Sprintf("substitute [%s], substituteFrom [%s]", strings.Join(keys, ", "), strings.Join(from, ", "))
}
