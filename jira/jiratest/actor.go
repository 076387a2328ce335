package jiratest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"path"
)

// Actor is a human Jira user working in the UI: its changes are checked
// like API changes and fire webhooks with the user as the actor. Errors
// are *Error with Jira's status and messages.
type Actor struct {
	s *Server
	u User
}

// As returns an Actor for u, registering u if the site does not know it.
func (s *Server) As(u User) *Actor {
	u = normalizeUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	if known := s.findUser(s.userID(u)); known != nil {
		u = *known
	} else {
		s.addUserLocked(u)
		s.changedLocked()
	}
	return &Actor{s: s, u: u}
}

// User is who the actor is.
func (a *Actor) User() User { return a.u }

// lockIssue takes the server lock and finds the issue; the caller unlocks.
func (a *Actor) lockIssue(key string) (*issueRec, *Error) {
	a.s.mu.Lock()
	is := a.s.issue(key)
	if is == nil || !a.s.canBrowse(a.u, is.Project) {
		return nil, errNoIssue()
	}
	return is, nil
}

// CreateIssue creates an issue reported by the actor.
func (a *Actor) CreateIssue(project, typ, summary, description string) (Issue, error) {
	fields := map[string]json.RawMessage{
		"project":   mustJSON(map[string]string{"key": project}),
		"issuetype": mustJSON(map[string]string{"name": typ}),
		"summary":   mustJSON(summary),
	}
	if description != "" {
		fields["description"] = mustJSON(description)
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	d, err := a.s.parseCreateAs(a.u, fields)
	if err != nil {
		return Issue{}, err
	}
	return a.s.createIssue(a.u, d, nil).export(), nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Comment adds a comment.
func (a *Actor) Comment(key, body string) (Comment, error) {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return Comment{}, err
	}
	c, err := a.s.addComment(a.u, is, body)
	if err != nil {
		return Comment{}, err
	}
	return *c, nil
}

// CommentRestricted adds a comment visible only to a role or group
// (vis != nil), or a Service Management internal note (internal).
func (a *Actor) CommentRestricted(key, body string, vis *Visibility, internal bool) (Comment, error) {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return Comment{}, err
	}
	c, err := a.s.addCommentWith(a.u, is, body, func(c *Comment) {
		if vis != nil {
			v := *vis
			c.Visibility = &v
		}
		c.Internal = internal
	})
	if err != nil {
		return Comment{}, err
	}
	return *c, nil
}

// SetSecurityLevel gives the issue a security level ("" removes it), as an
// administrator would; Jira fires jira:issue_updated with a "security"
// changelog item.
func (a *Actor) SetSecurityLevel(key, level string) error {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return err
	}
	if is.Security == level {
		return nil
	}
	items := []obj{a.s.item("security", "", is.Security, "", level)}
	is.Security = level
	is.Updated = a.s.now()
	a.s.emitLocked(event{name: "jira:issue_updated", typeName: "issue_updated", actor: a.u, issue: is, changelog: items})
	a.s.changedLocked()
	return nil
}

// EditComment changes a comment's body.
func (a *Actor) EditComment(key, id, body string) error {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return err
	}
	_, c := is.comment(id)
	if c == nil {
		return errNoComment(id)
	}
	return noError(a.s.editComment(a.u, is, c, body))
}

// noError keeps a nil *Error from becoming a non-nil error.
func noError(err *Error) error {
	if err == nil {
		return nil
	}
	return err
}

// DeleteComment removes a comment.
func (a *Actor) DeleteComment(key, id string) error {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return err
	}
	i, c := is.comment(id)
	if c == nil {
		return errNoComment(id)
	}
	a.s.deleteComment(a.u, is, i)
	return nil
}

// Transition moves the issue to the status named toStatus.
func (a *Actor) Transition(key, toStatus string) error {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return err
	}
	st := statusNamed(toStatus)
	if st == nil {
		return errMessage(400, fmt.Sprintf("There is no transition to status '%s'.", toStatus))
	}
	// A person in the UI fills the screen: the first allowed resolution.
	resolution := ""
	for _, f := range a.s.screens[st.transition] {
		if f.ID == "resolution" && len(f.Allowed) > 0 {
			resolution = f.Allowed[0]
		}
	}
	return noError(a.s.transitionIssue(a.u, is, st.transition, resolution))
}

// Assign sets the assignee; nil unassigns. The assignee must be known.
func (a *Actor) Assign(key string, to *User) error {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return err
	}
	var u *User
	if to != nil {
		if u = a.s.findUser(a.s.userID(normalizeUser(*to))); u == nil {
			return errFields(map[string]string{"assignee": fmt.Sprintf("User '%s' does not exist.", a.s.userID(*to))})
		}
	}
	a.s.assignIssue(a.u, is, copyUser(u))
	return nil
}

// Attach uploads a file; its type comes from the file name or content.
func (a *Actor) Attach(key, filename string, content []byte) (Attachment, error) {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return Attachment{}, err
	}
	typ := mime.TypeByExtension(path.Ext(filename))
	if typ == "" {
		typ = http.DetectContentType(content)
	}
	att := a.s.addAttachment(a.u, is, filename, mimeOf(filename, typ, content), content)
	att.Content = append([]byte(nil), att.Content...)
	return att, nil
}

// DeleteIssue deletes the issue.
func (a *Actor) DeleteIssue(key string) error {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return err
	}
	a.s.deleteIssue(a.u, is)
	return nil
}

// Edit changes fields as the issue's edit screen does, with the "fields"
// of PUT /issue/KEY: summary, description, labels, priority, assignee,
// components ([{"name":…}]). Values are checked like the API checks them.
func (a *Actor) Edit(key string, fields map[string]any) error {
	is, err := a.lockIssue(key)
	defer a.s.mu.Unlock()
	if err != nil {
		return err
	}
	raw := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		raw[k] = mustJSON(v)
	}
	e, err := a.s.parseEdit(is, raw, nil)
	if err != nil {
		return err
	}
	a.s.updateIssue(a.u, is, e)
	return nil
}
