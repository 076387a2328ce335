package jira

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Card is what the bot shows of an issue: its card and, when asked for,
// the transitions jtbot's account may make.
type Card struct {
	Key, ID    string
	Project    string
	Summary    string
	Type       string
	Status     string
	Priority   string
	Resolution string
	// Security is the issue's security level, "" when none: an issue with
	// one must not reach a chat (DESIGN §7).
	Security    string
	Labels      []string
	Components  []string
	Assignee    *User
	Reporter    *User
	Updated     time.Time
	Transitions []Transition
}

// Transition is one workflow step available on an issue, with the fields
// its screen asks for (from expand=transitions.fields).
type Transition struct {
	ID, Name, To string
	Fields       []TransitionField
}

// TransitionField is a field on a transition's screen.
type TransitionField struct {
	ID, Name string
	Required bool
	// Allowed are the names (or option values) it accepts; empty = any.
	Allowed []string
}

// Resolution is the transition's resolution field, if its screen has one.
func (t Transition) Resolution() (TransitionField, bool) {
	for _, f := range t.Fields {
		if f.ID == "resolution" {
			return f, true
		}
	}
	return TransitionField{}, false
}

// OtherRequired lists the required fields jtbot cannot fill: all but the
// resolution. A transition with any is one to do in Jira (send a link).
func (t Transition) OtherRequired() []TransitionField {
	var out []TransitionField
	for _, f := range t.Fields {
		if f.Required && f.ID != "resolution" {
			out = append(out, f)
		}
	}
	return out
}

// ProjectInfo is a Jira project.
type ProjectInfo struct {
	Key, Name string
	// Type is the projectTypeKey: "software", "business", or
	// "service_desk" for Jira Service Management (internal notes).
	Type string
}

// cardFields are the fields a card and a search hit need.
var cardFields = []string{"summary", "issuetype", "status", "priority", "resolution", "assignee", "reporter", "updated", "project", "security",
	"labels", "components"}

// jiraTime is how Jira writes dates in REST answers.
const jiraTime = "2006-01-02T15:04:05.000-0700"

// issueJSON is an issue as REST answers it: the fields webhooks carry
// (IssueFields), and when it was last updated.
type issueJSON struct {
	ID     Text `json:"id"`
	Key    Text `json:"key"`
	Fields struct {
		IssueFields
		Updated Text `json:"updated"`
	} `json:"fields"`
	Transitions []transitionJSON `json:"transitions"`
}

type transitionJSON struct {
	ID     Text                     `json:"id"`
	Name   Text                     `json:"name"`
	To     *Named                   `json:"to"`
	Fields map[string]fieldMetaJSON `json:"fields"`
}

// fieldMetaJSON is Jira's FieldMetadata, the part jtbot reads.
type fieldMetaJSON struct {
	Required      bool `json:"required"`
	Name          Text `json:"name"`
	AllowedValues []struct {
		Name  Text `json:"name"`
		Value Text `json:"value"`
	} `json:"allowedValues"`
}

func (t transitionJSON) transition() Transition {
	out := Transition{ID: string(t.ID), Name: string(t.Name)}
	if t.To != nil {
		out.To = string(t.To.Name)
	}
	ids := make([]string, 0, len(t.Fields))
	for id := range t.Fields {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := t.Fields[id]
		f := TransitionField{ID: id, Name: string(m.Name), Required: m.Required}
		for _, v := range m.AllowedValues {
			f.Allowed = append(f.Allowed, string(firstText(v.Name, v.Value)))
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

func firstText(a, b Text) Text {
	if a != "" {
		return a
	}
	return b
}

func nameOf(n *Named) string {
	if n == nil {
		return ""
	}
	return string(n.Name)
}

func (j issueJSON) card() Card {
	f := j.Fields
	is := Card{
		Key: string(j.Key), ID: string(j.ID), Summary: string(f.Summary),
		Type: nameOf(f.IssueType), Status: nameOf(f.Status), Priority: nameOf(f.Priority),
		Resolution: nameOf(f.Resolution), Security: nameOf(f.Security), Assignee: f.Assignee, Reporter: f.Reporter,
		Labels: f.Labels.Names, Components: f.Components.Names,
	}
	if f.Project != nil {
		is.Project = string(f.Project.Key)
	}
	if is.Project == "" {
		is.Project, _, _ = strings.Cut(is.Key, "-")
	}
	if t, err := time.Parse(jiraTime, string(f.Updated)); err == nil {
		is.Updated = t
	}
	for _, t := range j.Transitions {
		is.Transitions = append(is.Transitions, t.transition())
	}
	return is
}

// GetIssue reads an issue's card fields and its available transitions.
func (c *Client) GetIssue(ctx context.Context, key string) (Card, error) {
	q := url.Values{"fields": {strings.Join(cardFields, ",")}, "expand": {"transitions.fields"}}
	var out issueJSON
	err := c.call(ctx, "read issue", http.MethodGet, "rest/api/2/issue/"+url.PathEscape(key)+"?"+q.Encode(), nil, &out)
	return out.card(), err
}

// CanReadComment asks whether the client's account may read a comment:
// Jira answers 404 for a comment restricted to a group or role the caller
// is not in, or a Service Management internal note for a non-agent ("404
// Returned if the issue or comment is not found or the user does not have
// permission to view the issue or comment", Jira REST API v2, Get
// comment). Any other failure is returned: it says nothing either way.
func (c *Client) CanReadComment(ctx context.Context, key, commentID string) (bool, error) {
	path := "rest/api/2/issue/" + url.PathEscape(key) + "/comment/" + url.PathEscape(commentID)
	err := c.call(ctx, "read comment", http.MethodGet, path, nil, nil)
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, err
}

// Transitions lists the transitions jtbot's account may make on an issue.
func (c *Client) Transitions(ctx context.Context, key string) ([]Transition, error) {
	var out struct {
		Transitions []transitionJSON `json:"transitions"`
	}
	err := c.call(ctx, "read transitions", http.MethodGet, "rest/api/2/issue/"+url.PathEscape(key)+"/transitions?expand=transitions.fields", nil, &out)
	var list []Transition
	for _, t := range out.Transitions {
		list = append(list, t.transition())
	}
	return list, err
}

// DoTransition moves an issue along its workflow.
func (c *Client) DoTransition(ctx context.Context, key, transitionID string) error {
	return c.DoTransitionWith(ctx, key, transitionID, nil)
}

// DoTransitionWith moves an issue along its workflow and fills the
// transition screen's fields, e.g. ResolutionFields("Won't Do"). A screen
// field left out that Jira requires comes back as an *Error whose
// MissingFields names it.
func (c *Client) DoTransitionWith(ctx context.Context, key, transitionID string, fields map[string]any) error {
	body := map[string]any{"transition": map[string]string{"id": transitionID}}
	if len(fields) > 0 {
		body["fields"] = fields
	}
	return c.call(ctx, "transition issue", http.MethodPost, "rest/api/2/issue/"+url.PathEscape(key)+"/transitions", body, nil)
}

// ResolutionFields is the "fields" of a transition that sets the
// resolution by name.
func ResolutionFields(name string) map[string]any {
	return map[string]any{"resolution": map[string]string{"name": name}}
}

// Assign makes userID (an accountId on Cloud, a username on Data Center)
// the assignee; "" unassigns. go-atlassian's Issue.Assign would lose a
// context path, so the request is built here.
func (c *Client) Assign(ctx context.Context, key, userID string) error {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return err
	}
	field := "name"
	if cloud {
		field = "accountId"
	}
	var id any
	if userID != "" {
		id = userID
	}
	return c.call(ctx, "assign issue", http.MethodPut, "rest/api/2/issue/"+url.PathEscape(key)+"/assignee", map[string]any{field: id}, nil)
}

// UserID is how the site names a user in requests: accountId on Cloud,
// the username on Data Center.
func (c *Client) UserID(ctx context.Context, u User) (string, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return "", err
	}
	if cloud {
		return string(u.AccountID), nil
	}
	return string(u.Name), nil
}

// FindUsers searches users by e-mail, name or display name: Cloud takes
// "query", Data Center "username" (which matches those too).
func (c *Client) FindUsers(ctx context.Context, query string) ([]User, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return nil, err
	}
	param := "username"
	if cloud {
		param = "query"
	}
	q := url.Values{param: {query}, "maxResults": {"20"}}
	var out []User
	err = c.call(ctx, "search users", http.MethodGet, "rest/api/2/user/search?"+q.Encode(), nil, &out)
	return out, err
}

// GetUser reads a user by the id UserID gives.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return User{}, err
	}
	param := "username"
	if cloud {
		param = "accountId"
	}
	var out User
	err = c.call(ctx, "read user", http.MethodGet, "rest/api/2/user?"+url.Values{param: {id}}.Encode(), nil, &out)
	return out, err
}

// GetProject reads a project; a missing one is a 404.
func (c *Client) GetProject(ctx context.Context, key string) (ProjectInfo, error) {
	var out struct {
		Key  Text `json:"key"`
		Name Text `json:"name"`
		Type Text `json:"projectTypeKey"`
	}
	err := c.call(ctx, "read project", http.MethodGet, "rest/api/2/project/"+url.PathEscape(key), nil, &out)
	return ProjectInfo{Key: string(out.Key), Name: string(out.Name), Type: string(out.Type)}, err
}

// cloudPage is the most Cloud's /search/jql returns per request when
// fields other than ids are asked for.
const cloudPage = 100

// SearchPage returns up to n issues of a JQL search starting at offset
// start, with card fields, and whether more follow. Cloud's /search/jql
// pages by token only, so reaching an offset there means walking the pages.
func (c *Client) SearchPage(ctx context.Context, jql string, start, n int) ([]Card, bool, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return nil, false, err
	}
	want := start + n + 1 // one more than shown tells whether a next page exists
	var found []issueJSON
	if cloud {
		found, err = c.searchCloud(ctx, jql, want)
	} else {
		found, err = c.searchDC(ctx, jql, start, n+1)
		start = 0
	}
	if err != nil {
		return nil, false, err
	}
	if start >= len(found) {
		return nil, false, nil
	}
	found = found[start:]
	more := len(found) > n
	if more {
		found = found[:n]
	}
	out := make([]Card, 0, len(found))
	for _, j := range found {
		out = append(out, j.card())
	}
	return out, more, nil
}

// searchCloud pages through /search/jql. reconcile are issue ids the
// search must show as they are now, whatever its index lags behind.
func (c *Client) searchCloud(ctx context.Context, jql string, want int, reconcile ...int64) ([]issueJSON, error) {
	var all []issueJSON
	token := ""
	for len(all) < want {
		body := map[string]any{"jql": jql, "fields": cardFields, "maxResults": min(want-len(all), cloudPage)}
		if token != "" {
			body["nextPageToken"] = token
		}
		if len(reconcile) > 0 {
			body["reconcileIssues"] = reconcile
		}
		var page struct {
			Issues        []issueJSON `json:"issues"`
			NextPageToken string      `json:"nextPageToken"`
		}
		if err := c.call(ctx, "search", http.MethodPost, "rest/api/2/search/jql", body, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Issues...)
		if page.NextPageToken == "" || len(page.Issues) == 0 {
			break
		}
		token = page.NextPageToken
	}
	return all, nil
}

func (c *Client) searchDC(ctx context.Context, jql string, start, max int) ([]issueJSON, error) {
	body := map[string]any{"jql": jql, "fields": cardFields, "startAt": start, "maxResults": max}
	var page struct {
		Issues []issueJSON `json:"issues"`
	}
	err := c.call(ctx, "search", http.MethodPost, "rest/api/2/search", body, &page)
	return page.Issues, err
}

// Watchers lists the people watching an issue in Jira (GET
// …/watchers: {"watchCount","isWatching","watchers":[users]}).
func (c *Client) Watchers(ctx context.Context, key string) ([]User, error) {
	var out struct {
		Watchers []User `json:"watchers"`
	}
	err := c.call(ctx, "read watchers", http.MethodGet, "rest/api/2/issue/"+url.PathEscape(key)+"/watchers", nil, &out)
	return out.Watchers, err
}
