package route

import (
	"strings"

	"github.com/jtbot/jtbot/jira"
)

// field is one of the issue fields a subscription may filter on.
type field uint8

const (
	fieldProject field = 1 << iota
	fieldType
	fieldPriority
	fieldStatus
	fieldLabels
	fieldComponents
)

// fieldNames name the fields as the filters do.
var fieldNames = []struct {
	f    field
	name string
}{
	{fieldProject, "project"}, {fieldType, "type"}, {fieldPriority, "priority"},
	{fieldStatus, "status"}, {fieldLabels, "label"}, {fieldComponents, "component"},
}

// Facts are what subscriptions look at in one event. Field values are
// lower-cased, for matching; the project key is upper-case.
type Facts struct {
	Project string
	// Key and IssueID name the issue; either may be "" when the payload
	// lacks it (a Data Center comment event has only the comment's URL,
	// which holds the id).
	Key, IssueID string
	Kinds        Kinds

	Type, Priority, Status string
	Labels, Components     []string

	missing field // fields the payload did not carry
}

// commentTypes are the issue_event_type_name of Jira's issue_updated
// twins of comment events (see the server-issue-updated-issue-commented
// fixture).
var commentTypes = map[string]bool{"issue_commented": true, "issue_comment_edited": true, "issue_comment_deleted": true}

// FactsOf reads the facts of an event from its payload. An event jtbot
// does not handle has no kinds and matches nothing.
func FactsOf(ev *jira.Event) Facts {
	f := Facts{Kinds: kindsOf(ev), IssueID: ev.IssueID(), missing: fieldType | fieldPriority | fieldStatus | fieldLabels | fieldComponents}
	if ev.Issue != nil {
		f.Key = string(ev.Issue.Key)
		f.readFields(&ev.Issue.Fields)
	}
	if f.Project == "" {
		// Cloud's bare attachment_created has the key but no project.
		f.Project, _, _ = strings.Cut(f.Key, "-")
	}
	f.Project = strings.ToUpper(f.Project)
	if f.Project == "" {
		f.missing |= fieldProject
	}
	return f
}

func (f *Facts) readFields(fs *jira.IssueFields) {
	if fs.Project != nil {
		f.Project = string(fs.Project.Key)
	}
	f.setNamed(fieldType, &f.Type, fs.IssueType)
	f.setNamed(fieldPriority, &f.Priority, fs.Priority)
	f.setNamed(fieldStatus, &f.Status, fs.Status)
	if fs.Labels.Known {
		f.Labels, f.missing = lowerAll(fs.Labels.Names), f.missing&^fieldLabels
	}
	if fs.Components.Known {
		f.Components, f.missing = lowerAll(fs.Components.Names), f.missing&^fieldComponents
	}
}

func (f *Facts) setNamed(fl field, dst *string, n *jira.Named) {
	if n != nil {
		*dst, f.missing = strings.ToLower(string(n.Name)), f.missing&^fl
	}
}

// kindsOf says what an event is about (DESIGN §9's events: filter).
func kindsOf(ev *jira.Event) Kinds {
	switch ev.WebhookEvent {
	case jira.EventIssueCreated:
		return Created
	case jira.EventIssueDeleted:
		return Deleted
	case jira.EventAttachmentCreated:
		return Attachment
	case jira.EventCommentCreated, jira.EventCommentUpdated, jira.EventCommentDeleted:
		return Comment
	case jira.EventIssueUpdated:
		return updateKinds(ev)
	}
	return 0
}

// updateKinds are the kinds of an issue_updated: one per changelog item
// people filter on, Updated for any other, Comment when it carries one.
func updateKinds(ev *jira.Event) Kinds {
	var ks Kinds
	if ev.Changelog != nil {
		for _, it := range ev.Changelog.Items {
			// Jira capitalises some fields ("Attachment", "Status").
			switch strings.ToLower(string(it.Field)) {
			case "status":
				ks |= Status
			case "assignee":
				ks |= Assignee
			case "priority":
				ks |= Priority
			case "attachment":
				ks |= Attachment
			default:
				ks |= Updated
			}
		}
	}
	if commentTypes[ev.IssueEventType] || ev.Comment != nil {
		ks |= Comment
	}
	if ks == 0 {
		ks = Updated
	}
	return ks
}

// Missing names the fields filters may ask about that the payload did not
// carry ("project", "type", "priority", "status", "label", "component"):
// Cloud's comment events carry no labels or components, its bare
// attachment_created only a summary, Data Center's comment events no issue
// at all. Index.NeedsIssue says whether any subscription cares; if so,
// read the issue and Fill.
func (f Facts) Missing() []string {
	var out []string
	for _, n := range fieldNames {
		if f.missing&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Fill completes the facts the payload lacked from the issue as Jira
// shows it now; facts the payload carried stay (they are the event's).
func (f *Facts) Fill(card jira.Card) {
	if f.Key == "" {
		f.Key = card.Key
	}
	if f.IssueID == "" {
		f.IssueID = card.ID
	}
	fill := func(fl field, apply func()) {
		if f.missing&fl != 0 {
			apply()
			f.missing &^= fl
		}
	}
	fill(fieldProject, func() { f.Project = strings.ToUpper(card.Project) })
	fill(fieldType, func() { f.Type = strings.ToLower(card.Type) })
	fill(fieldPriority, func() { f.Priority = strings.ToLower(card.Priority) })
	fill(fieldStatus, func() { f.Status = strings.ToLower(card.Status) })
	fill(fieldLabels, func() { f.Labels = lowerAll(card.Labels) })
	fill(fieldComponents, func() { f.Components = lowerAll(card.Components) })
}

func lowerAll(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = strings.ToLower(v)
	}
	return out
}
