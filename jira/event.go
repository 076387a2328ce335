package jira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Event names jtbot acts on (DESIGN §4).
const (
	EventIssueCreated      = "jira:issue_created"
	EventIssueUpdated      = "jira:issue_updated"
	EventIssueDeleted      = "jira:issue_deleted"
	EventCommentCreated    = "comment_created"
	EventCommentUpdated    = "comment_updated"
	EventCommentDeleted    = "comment_deleted"
	EventAttachmentCreated = "attachment_created"
)

// Events is every event jtbot subscribes to, in the order webhooks list them.
var Events = []string{EventIssueCreated, EventIssueUpdated, EventIssueDeleted,
	EventCommentCreated, EventCommentUpdated, EventCommentDeleted, EventAttachmentCreated}

// Known reports whether jtbot handles the event.
func Known(event string) bool {
	for _, e := range Events {
		if e == event {
			return true
		}
	}
	return false
}

// Event is a Jira webhook payload, in the Cloud or the Data Center shape.
type Event struct {
	Timestamp      int64       `json:"timestamp"`
	WebhookEvent   string      `json:"webhookEvent"`
	IssueEventType string      `json:"issue_event_type_name"`
	User           *User       `json:"user"`
	Issue          *Issue      `json:"issue"`
	Changelog      *Changelog  `json:"changelog"`
	Comment        *Comment    `json:"comment"`
	Attachment     *Attachment `json:"attachment"`

	securityKnown bool // the payload's issue has a "security" field, maybe null
}

// User is a Jira user: Cloud names it by AccountID, Data Center by Name/Key.
type User struct {
	AccountID   Text `json:"accountId"`
	Name        Text `json:"name"`
	Key         Text `json:"key"`
	DisplayName Text `json:"displayName"`
	Email       Text `json:"emailAddress"`
}

// ID is the user's stable identifier on either flavour of Jira.
func (u *User) ID() string {
	if u == nil {
		return ""
	}
	if u.AccountID != "" {
		return string(u.AccountID)
	}
	if u.Key != "" {
		return string(u.Key)
	}
	return string(u.Name)
}

// Display is the name to show people.
func (u *User) Display() string {
	switch {
	case u == nil:
		return ""
	case u.DisplayName != "":
		return string(u.DisplayName)
	case u.Name != "":
		return string(u.Name)
	}
	return string(u.AccountID)
}

// Issue is the part of an issue a webhook carries that jtbot reads.
type Issue struct {
	ID     Text        `json:"id"`
	Key    Text        `json:"key"`
	Self   Text        `json:"self"`
	Fields IssueFields `json:"fields"`
}

// IssueFields are the issue's fields jtbot shows.
type IssueFields struct {
	Summary    Text     `json:"summary"`
	IssueType  *Named   `json:"issuetype"`
	Status     *Named   `json:"status"`
	Priority   *Named   `json:"priority"`
	Resolution *Named   `json:"resolution"`
	Assignee   *User    `json:"assignee"`
	Reporter   *User    `json:"reporter"`
	Project    *Project `json:"project"`
	// Security is the issue's security level; null when it has none (see
	// "security": null in the fixtures' issue events).
	Security   *Named `json:"security"`
	Labels     List   `json:"labels"`
	Components List   `json:"components"`
}

// Named is any Jira object shown by its name (status, priority, type…).
type Named struct {
	ID   Text `json:"id"`
	Name Text `json:"name"`
}

// Project is an issue's project.
type Project struct {
	ID   Text `json:"id"`
	Key  Text `json:"key"`
	Name Text `json:"name"`
}

// Changelog lists what an update changed.
type Changelog struct {
	ID    Text         `json:"id"`
	Items []ChangeItem `json:"items"`
}

// ChangeItem is one changed field.
type ChangeItem struct {
	Field      Text `json:"field"`
	FieldType  Text `json:"fieldtype"`
	From       Text `json:"from"`
	FromString Text `json:"fromString"`
	To         Text `json:"to"`
	ToString   Text `json:"toString"`
}

// Comment is a comment as webhooks send it.
type Comment struct {
	ID           Text  `json:"id"`
	Self         Text  `json:"self"`
	Body         Text  `json:"body"`
	Author       *User `json:"author"`
	UpdateAuthor *User `json:"updateAuthor"`
	// Visibility limits who may read the comment to a role or group:
	// {"type":"role","value":"Administrators"} (Cloud adds "identifier").
	// https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/
	Visibility *Visibility `json:"visibility"`
	// JSDPublic is false for a Jira Service Management internal note. It
	// sits on the comment object itself ("jsdPublic": true in the Cloud
	// comment fixtures); absent outside Service Management.
	JSDPublic *bool `json:"jsdPublic"`
}

// Visibility is a comment's restriction.
type Visibility struct {
	Type       Text `json:"type"` // "role" or "group"
	Value      Text `json:"value"`
	Identifier Text `json:"identifier"`
}

// Restricted reports whether the comment must not reach a chat: it is
// limited to a role or group, or it is a Service Management internal note.
func (c *Comment) Restricted() bool {
	if c == nil {
		return false
	}
	return (c.Visibility != nil && (c.Visibility.Type != "" || c.Visibility.Value != "")) ||
		(c.JSDPublic != nil && !*c.JSDPublic)
}

// IssueID is the id of the comment's issue, read from its self URL
// (…/rest/api/2/issue/10013/comment/10084): Data Center comment events
// carry no issue object.
func (c *Comment) IssueID() string {
	if c == nil {
		return ""
	}
	parts := strings.Split(string(c.Self), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "issue" && parts[i+2] == "comment" {
			return parts[i+1]
		}
	}
	return ""
}

// Attachment is the attachment of an attachment_created event.
type Attachment struct {
	ID       Text  `json:"id"`
	Filename Text  `json:"filename"`
	Size     int64 `json:"size"`
	MimeType Text  `json:"mimeType"`
	Content  Text  `json:"content"`
	Author   *User `json:"author"`
}

// Text is a JSON string that also accepts numbers and null, because Jira
// sends ids both ways across versions.
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*t = Text(b)
	default:
		return fmt.Errorf("expected a string, got %.20s", b)
	}
	return nil
}

// ParseEvent decodes a webhook body.
func ParseEvent(body []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("jira: malformed webhook JSON: %w", err)
	}
	// Whether the issue says anything about its security level: full issue
	// events do ("security": null or a level), Cloud's comment events carry
	// a brief issue without it and attachment events only the summary (see
	// the fixtures).
	var sec struct {
		Issue *struct {
			Fields struct {
				Security json.RawMessage `json:"security"`
			} `json:"fields"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &sec) == nil && sec.Issue != nil {
		e.securityKnown = sec.Issue.Fields.Security != nil
	}
	return &e, nil
}

// IssueID is the id of the issue the event is about, from the issue object
// or, for Data Center comment events, from the comment's URL.
func (e *Event) IssueID() string {
	if e.Issue != nil && e.Issue.ID != "" {
		return string(e.Issue.ID)
	}
	return e.Comment.IssueID()
}

// Restricted reports whether the event's content must not reach a chat
// (DESIGN §4, §7): its comment is restricted (Comment.Restricted) or its
// issue has a security level. An event that carries no issue (Data Center
// comment events, Cloud's bare attachment_created) cannot show a security
// level: the caller must then ask Jira (Client.IssueSecurity) before
// posting anything about that issue.
func (e *Event) Restricted() bool {
	if e.Comment.Restricted() {
		return true
	}
	return e.Issue != nil && e.Issue.Fields.Security != nil &&
		(e.Issue.Fields.Security.ID != "" || e.Issue.Fields.Security.Name != "")
}

// SecurityUnknown reports that the payload cannot say whether the issue has
// a security level (no issue, or an issue without the "security" field):
// before anything of it reaches a chat, read the issue (Card.Security).
func (e *Event) SecurityUnknown() bool { return !e.securityKnown && !e.Restricted() }

// IssueKey is the key of the event's issue, when the payload has it.
func (e *Event) IssueKey() string {
	if e.Issue == nil {
		return ""
	}
	return string(e.Issue.Key)
}
