// Package route decides which chats hear of a Jira event (DESIGN §9): it
// parses /subscribe filters, says a subscription in words, reads the facts
// of an event that filters look at, and matches them against every
// subscription through an index. JQL filters are Jira's to evaluate; the
// package only caches the answers (JQLCache). Nothing here does I/O.
package route

import "strings"

// Kinds is a set of event kinds: what an event is about, and what a
// subscription's events: filter asks for.
type Kinds uint16

// The kinds of the events: filter, and Updated for the rest.
const (
	Created Kinds = 1 << iota
	Status
	Assignee
	Priority
	Comment
	Attachment
	Deleted
	// Updated is any other change of an issue (summary, labels…). No
	// events: filter names it, so only subscriptions without one hear it.
	Updated
)

// kindNames are the events: filter's words, in the order help texts and
// descriptions list them, with how a description says each.
var kindNames = []struct {
	kind         Kinds
	name, phrase string
}{
	{Created, "created", "new issues"},
	{Status, "status", "status changes"},
	{Assignee, "assignee", "assignee changes"},
	{Priority, "priority", "priority changes"},
	{Comment, "comment", "comments"},
	{Attachment, "attachment", "attachments"},
	{Deleted, "deleted", "deletions"},
}

// EventNames are the values the events: filter accepts.
func EventNames() []string {
	names := make([]string, len(kindNames))
	for i, k := range kindNames {
		names[i] = k.name
	}
	return names
}

// kindOf is the kind an events: value names, or 0.
func kindOf(name string) Kinds {
	for _, k := range kindNames {
		if k.name == name {
			return k.kind
		}
	}
	return 0
}

// KindsOf is the set the events: values name; unknown names add nothing.
func KindsOf(names []string) Kinds {
	var ks Kinds
	for _, n := range names {
		ks |= kindOf(strings.ToLower(n))
	}
	return ks
}

// Names lists the kinds in the set by their events: names ("updated" for
// Updated).
func (ks Kinds) Names() []string {
	var out []string
	for _, k := range kindNames {
		if ks&k.kind != 0 {
			out = append(out, k.name)
		}
	}
	if ks&Updated != 0 {
		out = append(out, "updated")
	}
	return out
}
