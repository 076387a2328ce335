package jira

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// CreatableTypes lists the issue types jtbot's account may create in a
// project (Cloud answers "issueTypes", Data Center "values").
func (c *Client) CreatableTypes(ctx context.Context, project string) ([]string, error) {
	var page struct {
		IssueTypes []struct {
			Name string `json:"name"`
		} `json:"issueTypes"`
		Values []struct {
			Name string `json:"name"`
		} `json:"values"`
	}
	path := "rest/api/2/issue/createmeta/" + url.PathEscape(project) + "/issuetypes?maxResults=200"
	if err := c.call(ctx, "read creatable issue types", http.MethodGet, path, nil, &page); err != nil {
		return nil, err
	}
	var names []string
	for _, t := range append(page.IssueTypes, page.Values...) {
		names = append(names, t.Name)
	}
	return names, nil
}

// Webhook is a Jira admin webhook. Cloud and Data Center before 10 serve
// them at rest/webhooks/1.0/webhook (each names itself by "self"); Data
// Center 10 moved them to rest/jira-webhook/1.0/webhooks (a numeric "id",
// the filter under "configuration"), and the old path answers 404 there.
type Webhook struct {
	Self        string            `json:"self,omitempty"`
	Num         Text              `json:"id,omitempty"`
	Name        string            `json:"name"`
	URL         string            `json:"url"`
	Events      []string          `json:"events"`
	Filters     map[string]string `json:"filters,omitempty"`
	ExcludeBody bool              `json:"excludeBody"`
	Enabled     bool              `json:"enabled"`
	Secret      string            `json:"secret,omitempty"`
	// Configuration is how Data Center 10 reports the filter (FILTERS).
	Configuration map[string]string `json:"configuration,omitempty"`
}

// ID is the webhook's id: the last part of its self URL, or its id.
func (w Webhook) ID() string {
	if w.Self != "" {
		return w.Self[strings.LastIndex(w.Self, "/")+1:]
	}
	return string(w.Num)
}

// JQL is the webhook's issue filter.
func (w Webhook) JQL() string {
	if jql := w.Filters[filterKey]; jql != "" {
		return jql
	}
	return w.Configuration["FILTERS"]
}

const filterKey = "issue-related-events-section"

// WebhookName is the name jtbot gives its Jira webhook; it only ever
// changes or removes the webhook of that name.
const WebhookName = "jtbot"

// The two webhook APIs, newest first.
const (
	webhookPath10 = "rest/jira-webhook/1.0/webhooks"
	webhookPath   = "rest/webhooks/1.0/webhook"
)

// webhookAPI finds the site's webhook API: Data Center 10's when it
// answers, else the one of Cloud and older Data Center. It returns the
// path and the webhooks listed there.
func (c *Client) webhookAPI(ctx context.Context) (string, []Webhook, error) {
	var hooks []Webhook
	err := c.call(ctx, "list webhooks", http.MethodGet, webhookPath10, nil, &hooks)
	var je *Error
	if errors.As(err, &je) && je.Status == http.StatusNotFound {
		hooks = nil
		err = c.call(ctx, "list webhooks", http.MethodGet, webhookPath, nil, &hooks)
		return webhookPath, hooks, err
	}
	return webhookPath10, hooks, err
}

// Webhooks lists the site's admin webhooks (needs Jira admin rights).
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	_, hooks, err := c.webhookAPI(ctx)
	return hooks, err
}

// NewWebhook is jtbot's webhook to url for the mapped projects.
func NewWebhook(url, secret string, projects []string) Webhook {
	w := Webhook{Name: WebhookName, URL: url, Events: Events, Enabled: true, Secret: secret}
	if len(projects) > 0 {
		w.Filters = map[string]string{filterKey: ProjectFilter(projects)}
	}
	return w
}

// ProjectFilter is the webhook JQL that covers projects.
func ProjectFilter(projects []string) string {
	projects = append([]string(nil), projects...)
	sort.Strings(projects)
	return "project in (" + strings.Join(projects, ", ") + ")"
}

// FilterProjects reads the projects back from a ProjectFilter JQL; ok is
// false for any other JQL (someone wrote their own).
func FilterProjects(jql string) (projects []string, ok bool) {
	inner, found := strings.CutPrefix(strings.TrimSpace(jql), "project in (")
	if !found || !strings.HasSuffix(inner, ")") {
		return nil, false
	}
	for _, p := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			projects = append(projects, p)
		}
	}
	return projects, true
}

// MissingProjects lists the projects a webhook's filter leaves out (none
// when it has no filter, or one that is not jtbot's own form).
func MissingProjects(w Webhook, projects []string) []string {
	have, ok := FilterProjects(w.JQL())
	if !ok {
		return nil
	}
	var missing []string
	for _, p := range projects {
		if !slices.Contains(have, p) {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	return missing
}

// SaveWebhook creates jtbot's webhook, or updates the existing one so that
// there is never a second. It reports whether it created one.
func (c *Client) SaveWebhook(ctx context.Context, w Webhook) (created bool, err error) {
	path, existing, err := c.webhookAPI(ctx)
	if err != nil {
		return false, err
	}
	for _, e := range existing {
		if e.Name == WebhookName {
			return false, c.call(ctx, "update webhook", http.MethodPut, path+"/"+e.ID(), w, nil)
		}
	}
	return true, c.call(ctx, "create webhook", http.MethodPost, path, w, nil)
}

// WidenWebhookFilter adds projects to the filter of jtbot's webhook when
// it leaves some out, keeping its URL and everything else. It returns the
// projects that were missing; none when there is no jtbot webhook, or its
// filter is not jtbot's own form. secret is sent again: Jira does not list
// it, and an update without it could drop it.
func (c *Client) WidenWebhookFilter(ctx context.Context, projects []string, secret string) ([]string, error) {
	path, existing, err := c.webhookAPI(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range existing {
		if e.Name != WebhookName {
			continue
		}
		missing := MissingProjects(e, projects)
		if len(missing) == 0 {
			return nil, nil
		}
		id := e.ID()
		have, _ := FilterProjects(e.JQL())
		e.Filters = map[string]string{filterKey: ProjectFilter(append(have, missing...))}
		e.Configuration, e.Self, e.Num, e.Secret = nil, "", "", secret
		return missing, c.call(ctx, "update webhook", http.MethodPut, path+"/"+id, e, nil)
	}
	return nil, nil
}

// DeleteWebhook removes jtbot's webhook (and only it); it reports whether
// there was one.
func (c *Client) DeleteWebhook(ctx context.Context) (bool, error) {
	path, existing, err := c.webhookAPI(ctx)
	if err != nil {
		return false, err
	}
	deleted := false
	for _, e := range existing {
		if e.Name != WebhookName {
			continue
		}
		if err := c.call(ctx, "delete webhook", http.MethodDelete, path+"/"+e.ID(), nil, nil); err != nil {
			return deleted, err
		}
		deleted = true
	}
	return deleted, nil
}
