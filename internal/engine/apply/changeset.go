package apply

import "strings"

// Action is what happened to an object.
type Action string

// The actions of a ChangeSet, with Flux's names.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Deleted    Action = "deleted"
	Skipped    Action = "skipped"
)

// Changed tells whether the action wrote to the cluster.
func (a Action) Changed() bool {
	return a == Created || a == Configured || a == Deleted
}

// Change is one entry of a ChangeSet.
type Change struct {
	Ref    ObjectRef
	Action Action
	// ResourceVersion is the object's version after an apply (the live one
	// when unchanged), so a health check can ignore older cached copies.
	ResourceVersion string
}

// ChangeSet lists what an apply or a prune did, object by object, in the
// order it happened.
type ChangeSet struct {
	Entries []Change
}

func (c *ChangeSet) add(ref ObjectRef, a Action) {
	c.Entries = append(c.Entries, Change{Ref: ref, Action: a})
}

func (c *ChangeSet) addVersion(ref ObjectRef, a Action, resourceVersion string) {
	c.Entries = append(c.Entries, Change{Ref: ref, Action: a, ResourceVersion: resourceVersion})
}

// Append adds the entries of other to c.
func (c *ChangeSet) Append(other *ChangeSet) {
	if other != nil {
		c.Entries = append(c.Entries, other.Entries...)
	}
}

// Changed tells whether any object was created, configured or deleted.
func (c *ChangeSet) Changed() bool {
	if c == nil {
		return false
	}
	for _, e := range c.Entries {
		if e.Action.Changed() {
			return true
		}
	}
	return false
}

// String returns the text of Flux's events: one "Kind/namespace/name
// action" line per created, configured or deleted object.
func (c *ChangeSet) String() string {
	if c == nil {
		return ""
	}
	var lines []string
	for _, e := range c.Entries {
		if e.Action.Changed() {
			lines = append(lines, e.Ref.String()+" "+string(e.Action))
		}
	}
	return strings.Join(lines, "\n")
}

// Inventory returns the inventory of the objects in c that are in the
// cluster: every entry but the deleted ones. Skipped objects stay in it so
// that they are never taken for stale ones.
func (c *ChangeSet) Inventory() Inventory {
	var refs []ObjectRef
	if c != nil {
		for _, e := range c.Entries {
			if e.Action != Deleted {
				refs = append(refs, e.Ref)
			}
		}
	}
	return NewInventory(refs...)
}
