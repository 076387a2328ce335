package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
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

// Webhook is a Jira admin webhook (REST rest/webhooks/1.0/webhook).
type Webhook struct {
	Self        string            `json:"self,omitempty"`
	Name        string            `json:"name"`
	URL         string            `json:"url"`
	Events      []string          `json:"events"`
	Filters     map[string]string `json:"filters,omitempty"`
	ExcludeBody bool              `json:"excludeBody"`
	Enabled     bool              `json:"enabled"`
	Secret      string            `json:"secret,omitempty"`
}

// ID is the webhook's id, the last part of its self URL.
func (w Webhook) ID() string {
	return w.Self[strings.LastIndex(w.Self, "/")+1:]
}

// JQL is the webhook's issue filter.
func (w Webhook) JQL() string { return w.Filters["issue-related-events-section"] }

// WebhookName is the name jtbot gives its Jira webhook; it only ever
// changes or removes the webhook of that name.
const WebhookName = "jtbot"

const webhookPath = "rest/webhooks/1.0/webhook"

// Webhooks lists the site's admin webhooks (needs Jira admin rights).
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var hooks []Webhook
	err := c.call(ctx, "list webhooks", http.MethodGet, webhookPath, nil, &hooks)
	return hooks, err
}

// NewWebhook is jtbot's webhook to url for the mapped projects.
func NewWebhook(url, secret string, projects []string) Webhook {
	sort.Strings(projects)
	w := Webhook{Name: WebhookName, URL: url, Events: Events, Enabled: true, Secret: secret}
	if len(projects) > 0 {
		w.Filters = map[string]string{"issue-related-events-section": "project in (" + strings.Join(projects, ", ") + ")"}
	}
	return w
}

// SaveWebhook creates jtbot's webhook, or updates the existing one so that
// there is never a second. It reports whether it created one.
func (c *Client) SaveWebhook(ctx context.Context, w Webhook) (created bool, err error) {
	existing, err := c.Webhooks(ctx)
	if err != nil {
		return false, err
	}
	for _, e := range existing {
		if e.Name == WebhookName {
			return false, c.call(ctx, "update webhook", http.MethodPut, webhookPath+"/"+e.ID(), w, nil)
		}
	}
	return true, c.call(ctx, "create webhook", http.MethodPost, webhookPath, w, nil)
}

// DeleteWebhook removes jtbot's webhook (and only it); it reports whether
// there was one.
func (c *Client) DeleteWebhook(ctx context.Context) (bool, error) {
	existing, err := c.Webhooks(ctx)
	if err != nil {
		return false, err
	}
	deleted := false
	for _, e := range existing {
		if e.Name != WebhookName {
			continue
		}
		if err := c.call(ctx, "delete webhook", http.MethodDelete, webhookPath+"/"+e.ID(), nil, nil); err != nil {
			return deleted, fmt.Errorf("%w", err)
		}
		deleted = true
	}
	return deleted, nil
}
