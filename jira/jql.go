package jira

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MatchesJQL reports whether one issue matches a JQL query, by searching
// for "key = ISSUE AND (jql)" with at most one result. issue is the
// issue's key or its numeric id: JQL's issue key field takes both
// (https://support.atlassian.com/jira-software-cloud/docs/jql-fields/,
// "Issue key"). A JQL Jira refuses, and an issue that no longer exists,
// come back as an *Error with status 400 and Jira's Message.
//
// Cloud's /search/jql lags behind writes, and the change that makes jtbot
// ask is such a write: the issue is named in reconcileIssues, so Cloud
// answers for the issue as it is now. That takes its id: pass the id when
// the event has it, or the issue is read once to learn it.
func (c *Client) MatchesJQL(ctx context.Context, issue, jql string) (bool, error) {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return false, err
	}
	q := "key = " + quoteJQL(issue) + " AND (" + jql + ")"
	if !cloud {
		found, err := c.searchDC(ctx, q, 0, 1)
		return len(found) > 0, err
	}
	id, err := c.numericID(ctx, issue)
	if err != nil {
		return false, err
	}
	found, err := c.searchCloud(ctx, q, 1, id)
	return len(found) > 0, err
}

// CheckJQL asks Jira whether it accepts a query, in the form MatchesJQL
// sends it (inside parentheses, so that an ORDER BY is refused as it
// would be there). A query Jira rejects is an *Error with status 400 whose
// Message is Jira's own explanation ("Field 'x' does not exist or you do
// not have permission to view it."); other errors mean Jira could not be
// asked.
func (c *Client) CheckJQL(ctx context.Context, jql string) error {
	cloud, err := c.isCloud(ctx)
	if err != nil {
		return err
	}
	q := "(" + jql + ")"
	if cloud {
		_, err = c.searchCloud(ctx, q, 1)
	} else {
		_, err = c.searchDC(ctx, q, 0, 1)
	}
	return err
}

// numericID is the issue's id: issue itself when it is one, else read
// from the issue (a read by key is consistent, unlike Cloud's search).
func (c *Client) numericID(ctx context.Context, issue string) (int64, error) {
	if id, err := strconv.ParseInt(issue, 10, 64); err == nil {
		return id, nil
	}
	var out struct {
		ID Text `json:"id"`
	}
	if err := c.call(ctx, "read issue", http.MethodGet, "rest/api/2/issue/"+url.PathEscape(issue)+"?fields=summary", nil, &out); err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(out.ID), 10, 64)
}

// quoteJQL writes s as a JQL string literal.
func quoteJQL(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
