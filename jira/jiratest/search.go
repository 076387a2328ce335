package jiratest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// searchRequest is a search's parameters from the query string or body.
type searchRequest struct {
	JQL           string          `json:"jql"`
	StartAt       int             `json:"startAt"`
	MaxResults    *int            `json:"maxResults"`
	Fields        []string        `json:"fields"`
	Expand        json.RawMessage `json:"expand"` // a string or a list, by endpoint
	NextPageToken string          `json:"nextPageToken"`
	// ReconcileIssues are issue ids (up to 50) that /search/jql must show
	// as they are now, lag or not.
	ReconcileIssues []json.Number `json:"reconcileIssues"`
	expand          []string
	me              User // who searches: currentUser(), and what they may browse
}

// handleSearch serves /search (Data Center; 410 on Cloud, as there) and
// /search/jql (Cloud only, as there).
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, parts []string) {
	jql := len(parts) == 1 && parts[0] == "jql"
	switch {
	case len(parts) > 1 || (len(parts) == 1 && !jql), jql && !s.cloud:
		notFound(w, r)
		return
	case !jql && s.cloud:
		writeError(w, errMessage(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"))
		return
	}
	if !only(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	req, ok := readSearch(w, r)
	if !ok {
		return
	}
	req.me = s.caller(r)
	if jql {
		s.searchJQL(w, req)
		return
	}
	s.searchPaged(w, req)
}

func readSearch(w http.ResponseWriter, r *http.Request) (*searchRequest, bool) {
	req := &searchRequest{}
	if r.Method == http.MethodPost {
		if !decodeBody(w, r, req) {
			return nil, false
		}
		var list []string
		var one string
		if json.Unmarshal(req.Expand, &list) == nil {
			req.expand = list
		} else if json.Unmarshal(req.Expand, &one) == nil {
			req.expand = []string{one}
		}
		return req, true
	}
	q := r.URL.Query()
	req.JQL, req.NextPageToken = q.Get("jql"), q.Get("nextPageToken")
	req.StartAt, _ = strconv.Atoi(q.Get("startAt"))
	if n, err := strconv.Atoi(q.Get("maxResults")); err == nil {
		req.MaxResults = &n
	}
	req.Fields, req.expand = q["fields"], q["expand"]
	return req, true
}

// run parses, checks and executes the JQL as me: issues of projects me
// may not browse are not found, as in Jira.
func (s *Server) run(jql string, me User) ([]*issueRec, *Error) {
	q, err := parseJQL(jql)
	if err != nil {
		return nil, err
	}
	m, err := s.compile(q, me)
	if err != nil {
		return nil, err
	}
	var out []*issueRec
	for _, is := range s.issues {
		if m(is) && s.canBrowse(me, is.Project) {
			out = append(out, is)
		}
	}
	sortIssues(out, q.order)
	return out, nil
}

// searchPaged is Data Center's /search: startAt, maxResults and total.
func (s *Server) searchPaged(w http.ResponseWriter, req *searchRequest) {
	found, err := s.run(req.JQL, req.me)
	if err != nil {
		writeError(w, err)
		return
	}
	max := 50
	if req.MaxResults != nil {
		max = min(max0(*req.MaxResults), 1000)
	}
	start := max0(req.StartAt)
	writeJSON(w, 200, obj{
		"expand":     "names,schema",
		"startAt":    start,
		"maxResults": max,
		"total":      len(found),
		"issues":     s.renderAll(window(found, start, max), req, "*navigable"),
	})
}

// searchJQL is Cloud's enhanced search: bounded JQL, only ids unless
// fields are asked for, and nextPageToken paging.
func (s *Server) searchJQL(w http.ResponseWriter, req *searchRequest) {
	if q, err := parseJQL(req.JQL); err == nil && q.where == nil {
		writeError(w, errMessage(400, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."))
		return
	}
	found, err := s.run(req.JQL, req.me)
	if err != nil {
		writeError(w, err)
		return
	}
	if len(req.ReconcileIssues) > 50 {
		writeError(w, errMessage(400, "The number of issues to reconcile must not exceed 50."))
		return
	}
	found = s.indexed(found, req.ReconcileIssues)
	start, ok := decodePageToken(req.NextPageToken)
	if !ok {
		writeError(w, errMessage(400, "The provided next page token is invalid or expired."))
		return
	}
	max := 50
	if req.MaxResults != nil && *req.MaxResults > 0 {
		max = min(*req.MaxResults, 5000)
	}
	if fs := parseFields(req.Fields, "id"); len(fs.include) > 1 || fs.all || fs.navigable {
		max = min(max, 100)
	}
	page := window(found, start, max)
	out := obj{"issues": s.renderAll(page, req, "id"), "isLast": start+len(page) >= len(found)}
	if start+len(page) < len(found) {
		out["nextPageToken"] = pageToken(start + len(page))
	}
	writeJSON(w, 200, out)
}

func (s *Server) renderAll(list []*issueRec, req *searchRequest, dflt string) []any {
	fs := parseFields(req.Fields, dflt)
	expand := parseExpand(req.expand...)
	out := []any{}
	for _, is := range list {
		out = append(out, s.issueJSON(is, fs, expand, s.userID(req.me)))
	}
	return out
}

// Page tokens are opaque to clients; here they carry the next offset.
func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("jiratest:" + strconv.Itoa(offset)))
}

func decodePageToken(tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "jiratest:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "jiratest:"))
	return n, err == nil && n >= 0
}

// indexed models Cloud's eventually consistent /search/jql: an issue
// created or changed less than SearchLag ago is not found yet, unless the
// request names its id in reconcileIssues. Atlassian: "The API doesn't
// provide read-after-write consistency by default … The delay might vary
// from a few seconds to minutes"
// (https://developer.atlassian.com/cloud/jira/platform/search-and-reconcile/);
// reconciliation covers at most 50 issues (JRACLOUD-96208). Data Center's
// /search reads the database index synchronously and has no lag.
func (s *Server) indexed(found []*issueRec, reconcile []json.Number) []*issueRec {
	if s.searchLag <= 0 {
		return found
	}
	named := map[string]bool{}
	for _, id := range reconcile {
		named[id.String()] = true
	}
	horizon := s.now().Add(-s.searchLag)
	var out []*issueRec
	for _, is := range found {
		if named[is.ID] || !is.Updated.After(horizon) {
			out = append(out, is)
		}
	}
	return out
}
