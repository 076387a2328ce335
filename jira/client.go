// Package jira owns everything jtbot says to and hears from Jira: a REST v2
// client (go-atlassian underneath) whose errors say whether to retry, and
// the authenticated /webhook/jira/ endpoint with its payload types.
package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v2 "github.com/ctreminiom/go-atlassian/v2/jira/v2"
	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"
)

// Client talks to one Jira site with jtbot's account.
type Client struct {
	api    *v2.Client
	server string

	mu     sync.Mutex
	cloud  *bool          // learnt from serverInfo on first need
	settle *time.Duration // SetSearchSettle; nil: DefaultSearchSettle
}

// New builds a client. With user set it uses basic auth (Cloud e-mail + API
// token), otherwise token is a Data Center personal access token.
func New(server, user, token string, httpClient *http.Client) (*Client, error) {
	if httpClient == nil {
		// go-atlassian falls back to http.DefaultClient: no timeout at all.
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	api, err := v2.New(httpClient, server)
	if err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	if user != "" {
		api.Auth.SetBasicAuth(user, token)
	} else {
		api.Auth.SetBearerToken(token)
	}
	return &Client{api: api, server: strings.TrimRight(server, "/")}, nil
}

// BrowseURL is the page of an issue.
func (c *Client) BrowseURL(key string) string { return c.server + "/browse/" + key }

// Server is the site's base URL.
func (c *Client) Server() string { return c.server }

// NewIssue is what jtbot needs to create an issue.
type NewIssue struct {
	Project     string
	Type        string
	Summary     string
	Description string
	Labels      []string
	// Origin is stored as an issue property so that a retry after a crash
	// can find the issue instead of creating a second one.
	Origin string
}

// OriginProperty is the issue property holding NewIssue.Origin.
const OriginProperty = "jtbot.origin"

// Created is a new issue's key and id.
type Created struct{ Key, ID string }

// CreateIssue creates an issue. It sends its own request because the
// library's issue type has no "properties" (set atomically with creation).
func (c *Client) CreateIssue(ctx context.Context, n NewIssue) (Created, error) {
	fields := map[string]any{
		"project":     map[string]string{"key": n.Project},
		"issuetype":   map[string]string{"name": n.Type},
		"summary":     TruncateUTF16(n.Summary, MaxSummary),
		"description": n.Description,
	}
	if labels := cleanLabels(n.Labels); len(labels) > 0 {
		fields["labels"] = labels
	}
	body := map[string]any{"fields": fields}
	if n.Origin != "" {
		body["properties"] = []map[string]any{{"key": OriginProperty, "value": map[string]string{"origin": n.Origin}}}
	}
	var out Created
	err := c.call(ctx, "create issue", http.MethodPost, "rest/api/2/issue", body, &struct {
		Key *string `json:"key"`
		ID  *string `json:"id"`
	}{&out.Key, &out.ID})
	return out, err
}

// FindByOrigin is FindByOriginSince with no intent time and nothing to
// reconcile: it reads every issue jtbot's account reported in the project,
// newest first, up to maxOriginScan.
func (c *Client) FindByOrigin(ctx context.Context, project, origin string) (Created, bool, error) {
	return c.FindByOriginSince(ctx, project, origin, time.Time{}, nil)
}

// maxOriginScan bounds FindByOrigin without an intent time.
const maxOriginScan = 1000

// DefaultSearchSettle is how long after a write Jira Cloud's search may
// still miss it: Atlassian gives "a few seconds to minutes"
// (https://developer.atlassian.com/cloud/jira/platform/search-and-reconcile/).
const DefaultSearchSettle = 5 * time.Minute

// ErrSearchUnsettled: the search found nothing, but it may not see yet an
// issue created at the intent's time (Cloud's /search/jql is eventually
// consistent). It is wrapped in a temporary *Error whose RetryAfter says
// when the search will be trustworthy.
var ErrSearchUnsettled = errors.New("search cannot see issues that recent yet")

// SetSearchSettle changes DefaultSearchSettle for this client (0: trust
// the search at once, as on Data Center).
func (c *Client) SetSearchSettle(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settle = &d
}

// SearchSettled reports whether the site's search sees every issue created
// before t (Data Center: always; Cloud: once the settle time has passed),
// and if not, how long to wait.
func (c *Client) SearchSettled(ctx context.Context, t time.Time) (bool, time.Duration, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil || !cloud {
		return err == nil, 0, err
	}
	c.mu.Lock()
	settle := DefaultSearchSettle
	if c.settle != nil {
		settle = *c.settle
	}
	c.mu.Unlock()
	if wait := time.Until(t.Add(settle)); wait > 0 {
		return false, wait, nil
	}
	return true, 0, nil
}

// FindByOriginSince finds the issue a create with this origin made, if any.
// since is when the intent was recorded (before the create was sent):
// only issues jtbot's account reported in the project since then (a minute
// of clock skew allowed) are read, every page of them. Issue properties
// are searchable by JQL only when an app indexes them, so each candidate's
// jtbot.origin property is read. reconcile are issue ids jtbot saw created
// by its account (jira:issue_created webhooks) but has not linked yet:
// Cloud's search then shows them even before its index has them (at most
// 50, Atlassian's limit). Found nothing: when the search may still lag
// behind since, the error is a temporary *Error wrapping ErrSearchUnsettled
// — never conclude "not created" from it.
func (c *Client) FindByOriginSince(ctx context.Context, project, origin string, since time.Time, reconcile []string) (Created, bool, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return Created{}, false, err
	}
	jql := fmt.Sprintf("project = %q AND reporter = currentUser() ORDER BY created DESC", project)
	floor := since.Add(-time.Minute)
	var ids []int64
	for _, id := range reconcile {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && len(ids) < 50 {
			ids = append(ids, n)
		}
	}
	seen := 0
	token, startAt := "", 0
	for {
		body := map[string]any{"jql": jql, "fields": []string{"created"}, "maxResults": cloudPage}
		path := "rest/api/2/search"
		if cloud {
			path = "rest/api/2/search/jql"
			if token != "" {
				body["nextPageToken"] = token
			}
			if len(ids) > 0 {
				body["reconcileIssues"] = ids
			}
		} else {
			body["startAt"] = startAt
		}
		var page struct {
			Issues []struct {
				ID     Text `json:"id"`
				Key    Text `json:"key"`
				Fields struct {
					Created Text `json:"created"`
				} `json:"fields"`
			} `json:"issues"`
			NextPageToken string `json:"nextPageToken"`
			Total         int    `json:"total"`
		}
		if err := c.call(ctx, "find issue by origin", http.MethodPost, path, body, &page); err != nil {
			return Created{}, false, err
		}
		older := false
		for _, is := range page.Issues {
			if created, err := time.Parse(jiraTime, string(is.Fields.Created)); err == nil && !since.IsZero() && created.Before(floor) {
				older = true
				break
			}
			if seen++; since.IsZero() && seen > maxOriginScan {
				older = true
				break
			}
			ok, err := c.hasOrigin(ctx, string(is.Key), origin)
			if err != nil {
				return Created{}, false, err
			}
			if ok {
				return Created{Key: string(is.Key), ID: string(is.ID)}, true, nil
			}
		}
		startAt += len(page.Issues)
		token = page.NextPageToken
		if older || len(page.Issues) == 0 || (cloud && token == "") || (!cloud && startAt >= page.Total) {
			break
		}
	}
	if since.IsZero() {
		return Created{}, false, nil
	}
	settled, wait, err := c.SearchSettled(ctx, since)
	if err != nil {
		return Created{}, false, err
	}
	if !settled {
		return Created{}, false, &Error{Op: "find issue by origin", Err: ErrSearchUnsettled, RetryAfter: wait}
	}
	return Created{}, false, nil
}

func (c *Client) hasOrigin(ctx context.Context, key, origin string) (bool, error) {
	var prop struct {
		Value struct {
			Origin string `json:"origin"`
		} `json:"value"`
	}
	err := c.call(ctx, "read issue property", http.MethodGet, "rest/api/2/issue/"+key+"/properties/"+OriginProperty, nil, &prop)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil && prop.Value.Origin == origin, err
}

// cleanLabels makes every label one Jira accepts and drops empty ones and
// repeats.
func cleanLabels(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range in {
		if l = Label(l); l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// UpdateIssue changes summary and description.
func (c *Client) UpdateIssue(ctx context.Context, key, summary, description string) error {
	body := map[string]any{"fields": map[string]string{"summary": TruncateUTF16(summary, MaxSummary), "description": description}}
	return c.call(ctx, "update issue", http.MethodPut, "rest/api/2/issue/"+key, body, nil)
}

// AddComment adds a comment and returns its id.
func (c *Client) AddComment(ctx context.Context, key, body string) (string, error) {
	cm, resp, err := c.api.Issue.Comment.Add(ctx, key, &models.CommentPayloadSchemeV2{Body: body}, nil)
	if err := classify("add comment", resp, err); err != nil {
		return "", err
	}
	return cm.ID, nil
}

// UpdateComment replaces a comment's body.
func (c *Client) UpdateComment(ctx context.Context, key, id, body string) error {
	_, resp, err := c.api.Issue.Comment.Update(ctx, key, id, &models.CommentPayloadSchemeV2{Body: body}, nil)
	return classify("update comment", resp, err)
}

// Myself returns jtbot's own Jira account.
func (c *Client) Myself(ctx context.Context) (User, error) {
	u, resp, err := c.api.MySelf.Details(ctx, nil)
	if err := classify("read myself", resp, err); err != nil {
		return User{}, err
	}
	return User{AccountID: Text(u.AccountID), Name: Text(u.Name), Key: Text(u.Key), DisplayName: Text(u.DisplayName), Email: Text(u.EmailAddress)}, nil
}

// IssueRef is a search hit.
type IssueRef struct {
	Key, ID, Summary string
}

// Search runs JQL on whichever search API the site speaks: Cloud has retired
// /search for /search/jql, Data Center only has /search.
func (c *Client) Search(ctx context.Context, jql string, max int) ([]IssueRef, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return nil, err
	}
	fields := []string{"summary"}
	var issues []*models.IssueSchemeV2
	if cloud {
		page, resp, err := c.api.Issue.Search.SearchJQL(ctx, jql, fields, nil, max, "")
		if err := classify("search", resp, err); err != nil {
			return nil, err
		}
		issues = page.Issues
	} else {
		page, resp, err := c.api.Issue.Search.Post(ctx, jql, fields, nil, 0, max, "")
		if err := classify("search", resp, err); err != nil {
			return nil, err
		}
		issues = page.Issues
	}
	out := make([]IssueRef, 0, len(issues))
	for _, is := range issues {
		ref := IssueRef{Key: is.Key, ID: is.ID}
		if is.Fields != nil {
			ref.Summary = is.Fields.Summary
		}
		out = append(out, ref)
	}
	return out, nil
}

// IsCloud reports whether the site is Jira Cloud (asked once, then kept):
// the daemon picks the OAuth provider by it.
func (c *Client) IsCloud(ctx context.Context) (bool, error) { return c.isCloud(ctx) }

func (c *Client) isCloud(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cloud != nil {
		return *c.cloud, nil
	}
	info, resp, err := c.api.Server.Info(ctx)
	if err := classify("read server info", resp, err); err != nil {
		return false, err
	}
	cloud := strings.EqualFold(info.DeploymentType, "Cloud")
	c.cloud = &cloud
	return cloud, nil
}

// IssueKeyByID reads an issue's key from its id.
func (c *Client) IssueKeyByID(ctx context.Context, id string) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	err := c.call(ctx, "read issue", http.MethodGet, "rest/api/2/issue/"+id+"?fields=summary", nil, &out)
	return out.Key, err
}

func (c *Client) call(ctx context.Context, op, method, path string, body, out any) error {
	req, err := c.api.NewRequest(ctx, method, path, "", body)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	resp, err := c.api.Call(req, out)
	return classify(op, resp, err)
}

// Error is a failed Jira call, with what is needed to decide on a retry.
type Error struct {
	Op         string
	Status     int    // 0: no answer (network, timeout)
	Message    string // Jira's own words, when it gave any
	RetryAfter time.Duration
	// Fields are Jira's per-field complaints ({"errors":{field: msg}}).
	Fields map[string]string
	Err    error
}

// MissingFields lists the fields Jira refused the request for because they
// are required and were not given ("Resolution is required."), sorted.
func (e *Error) MissingFields() []string {
	if e.Status != http.StatusBadRequest {
		return nil
	}
	var out []string
	for f, msg := range e.Fields {
		if strings.HasSuffix(msg, " is required.") {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// MissingFields is (*Error).MissingFields of err, if it is a Jira error.
func MissingFields(err error) []string {
	var je *Error
	if errors.As(err, &je) {
		return je.MissingFields()
	}
	return nil
}

func (e *Error) Error() string {
	switch {
	case e.Status == 0:
		return fmt.Sprintf("jira: %s: %v", e.Op, e.Err)
	case e.Message != "":
		return fmt.Sprintf("jira: %s: %d %s", e.Op, e.Status, e.Message)
	}
	return fmt.Sprintf("jira: %s: status %d", e.Op, e.Status)
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again later can succeed by itself:
// no answer, rate limits and server errors.
func (e *Error) Temporary() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// IsNotFound reports a Jira 404.
func IsNotFound(err error) bool {
	var je *Error
	return errors.As(err, &je) && je.Status == http.StatusNotFound
}

func classify(op string, resp *models.ResponseScheme, err error) error {
	if e, ok := loginIgnored(op, resp); ok {
		return e
	}
	if err == nil {
		return nil
	}
	if e, ok := grantFailure(op, err); ok {
		return e
	}
	if resp == nil || resp.Code == 0 {
		return &Error{Op: op, Err: plainNetError(err)}
	}
	e := &Error{Op: op, Status: resp.Code, Err: err, Message: jiraMessage(resp.Bytes.Bytes()), Fields: jiraFields(resp.Bytes.Bytes())}
	if resp.Response != nil {
		e.RetryAfter = retryAfter(resp.Response.Header.Get("Retry-After"))
	}
	return e
}

// plainNetError drops the request URL from url.Error: it is noise in logs.
func plainNetError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timed out")
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	return err
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// jiraFields is the "errors" member of a Jira error body.
func jiraFields(body []byte) map[string]string {
	var e struct {
		Errors map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return nil
	}
	return e.Errors
}

// jiraMessage pulls Jira's human words out of an error body
// ({"errorMessages":[…],"errors":{field: msg}}), never the raw JSON.
func jiraMessage(body []byte) string {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	parts := append([]string(nil), e.ErrorMessages...)
	for field, msg := range e.Errors {
		parts = append(parts, field+": "+msg)
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	msg := strings.Join(parts, "; ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}
