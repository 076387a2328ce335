package jiratest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Issue is a snapshot of an issue.
type Issue struct {
	ID, Key, Project, Type, Summary, Description string
	Labels                                       []string
	// Components are names of the project's components (AddComponent).
	Components []string
	// Status is "To Do", "In Progress" or "Done"; Resolution is "" or "Done".
	Status, Resolution, Priority string
	Assignee, Reporter           *User
	Created, Updated             time.Time
	Comments                     []Comment
	Attachments                  []Attachment
	Properties                   map[string]json.RawMessage
	// Watchers are user ids: accountIds on Cloud, names on Server.
	Watchers []string
	// Security is the issue's security level ("" = none); set it with
	// SetSecurityLevel.
	Security string
}

// Comment is a comment on an issue.
type Comment struct {
	ID, Body string
	// Visibility restricts the comment to a role or group.
	Visibility *Visibility
	// Internal marks a Jira Service Management internal note: Cloud
	// renders it "jsdPublic": false.
	Internal         bool
	Author           User
	UpdateAuthor     User
	Created, Updated time.Time
}

// Visibility is a comment restriction: Type "role" or "group", Value its
// name. Shape: https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/
type Visibility struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Attachment is a file attached to an issue.
type Attachment struct {
	ID, Filename, MimeType string
	Size                   int
	Content                []byte
	Author                 User
	Created                time.Time
}

// Error is a Jira error answer; Actor methods return it too.
type Error struct {
	Status        int               `json:"-"`
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func (e *Error) Error() string {
	parts := append([]string(nil), e.ErrorMessages...)
	for _, k := range sortedKeys(e.Errors) {
		parts = append(parts, k+": "+e.Errors[k])
	}
	return fmt.Sprintf("jira %d: %s", e.Status, strings.Join(parts, "; "))
}

func errMessage(status int, msg string) *Error {
	return &Error{Status: status, ErrorMessages: []string{msg}, Errors: map[string]string{}}
}

func errFields(fields map[string]string) *Error {
	return &Error{Status: 400, ErrorMessages: []string{}, Errors: fields}
}

func errNoIssue() *Error {
	return errMessage(404, "Issue does not exist or you do not have permission to see it.")
}

func errNoComment(id string) *Error {
	return errMessage(404, fmt.Sprintf("Can not find a comment for the id: %s.", id))
}

// Texts longer than this are refused, as Jira refuses them.
const maxText = 32767

const tooLong = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."

type project struct {
	ID, Key, Name string
	Type          string // projectTypeKey; empty means "software"
	Types         []string
	last          int // number of the last issue key handed out
	components    []component
}

func (p *project) hasType(name string) bool {
	for _, t := range p.Types {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}

// issueRec is an issue as stored: the exported snapshot plus bookkeeping.
type issueRec struct {
	Issue
	project  *project
	resolved time.Time
	propKeys []string // property keys in the order they were first set
}

func (is *issueRec) export() Issue {
	out := is.Issue
	out.Labels = append([]string(nil), is.Labels...)
	out.Components = append([]string(nil), is.Components...)
	out.Assignee = copyUser(is.Assignee)
	out.Reporter = copyUser(is.Reporter)
	out.Comments = append([]Comment(nil), is.Comments...)
	for i, c := range out.Comments {
		if c.Visibility != nil {
			v := *c.Visibility
			out.Comments[i].Visibility = &v
		}
	}
	out.Attachments = make([]Attachment, len(is.Attachments))
	for i, a := range is.Attachments {
		a.Content = append([]byte(nil), a.Content...)
		out.Attachments[i] = a
	}
	out.Properties = make(map[string]json.RawMessage, len(is.Properties))
	for k, v := range is.Properties {
		out.Properties[k] = append(json.RawMessage(nil), v...)
	}
	out.Watchers = append([]string(nil), is.Watchers...)
	return out
}

func copyUser(u *User) *User {
	if u == nil {
		return nil
	}
	c := *u
	return &c
}

func (is *issueRec) comment(id string) (int, *Comment) {
	for i := range is.Comments {
		if is.Comments[i].ID == id {
			return i, &is.Comments[i]
		}
	}
	return -1, nil
}

func (is *issueRec) watching(id string) bool {
	for _, w := range is.Watchers {
		if w == id {
			return true
		}
	}
	return false
}

func (is *issueRec) setProperty(key string, v json.RawMessage) {
	if is.Properties == nil {
		is.Properties = map[string]json.RawMessage{}
	}
	if _, ok := is.Properties[key]; !ok {
		is.propKeys = append(is.propKeys, key)
	}
	is.Properties[key] = append(json.RawMessage(nil), v...)
}

func (is *issueRec) deleteProperty(key string) bool {
	if _, ok := is.Properties[key]; !ok {
		return false
	}
	delete(is.Properties, key)
	for i, k := range is.propKeys {
		if k == key {
			is.propKeys = append(is.propKeys[:i], is.propKeys[i+1:]...)
			break
		}
	}
	return true
}

// project finds a project by key (any case), id or name.
func (s *Server) project(keyOrID string) *project {
	for _, p := range s.projects {
		if strings.EqualFold(p.Key, keyOrID) || p.ID == keyOrID {
			return p
		}
	}
	return nil
}

// issue finds an issue by key (any case) or id.
func (s *Server) issue(keyOrID string) *issueRec {
	for _, is := range s.issues {
		if strings.EqualFold(is.Key, keyOrID) || is.ID == keyOrID {
			return is
		}
	}
	return nil
}

// Jira's fixed workflow: To Do → In Progress → Done, any to any.
type status struct {
	transition, name, id string
	catID                int
	catKey, color        string
}

var statuses = []status{
	{"11", "To Do", "10000", 2, "new", "blue-gray"},
	{"21", "In Progress", "3", 4, "indeterminate", "yellow"},
	{"31", "Done", "10001", 3, "done", "green"},
}

func statusNamed(name string) *status {
	for i := range statuses {
		if strings.EqualFold(statuses[i].name, name) {
			return &statuses[i]
		}
	}
	return nil
}

var priorities = []string{"Highest", "High", "Medium", "Low", "Lowest"}

// priorityID is the priority's id ("1" for Highest) or "".
func priorityID(name string) string {
	for i, p := range priorities {
		if strings.EqualFold(p, name) {
			return fmt.Sprint(i + 1)
		}
	}
	return ""
}

func priorityByID(id string) string {
	for i, p := range priorities {
		if fmt.Sprint(i+1) == id {
			return p
		}
	}
	return ""
}

const resolutionDoneID = "10000"
