package jiratest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook is a webhook registered with the site.
type Webhook struct {
	ID, Name, URL string
	// JQL is the "issue-related-events-section" filter; "" matches all.
	JQL         string
	Events      []string
	Secret      string
	ExcludeBody bool
	Disabled    bool
}

// Delivery is one webhook event sent (or given up on) by the site.
type Delivery struct {
	WebhookName, Event string
	// URL is where it was posted; ID is its X-Atlassian-Webhook-Identifier.
	URL, ID string
	Body    []byte
	// Status is the receiver's last answer, 0 if it could not be reached
	// (then Err says why).
	Status   int
	Attempts int
	Err      string
}

// Delivery retries, as Jira retries on 5xx and network errors.
const (
	maxAttempts  = 6 // the first try and 5 retries
	firstBackoff = 20 * time.Millisecond
	maxBackoff   = 500 * time.Millisecond
)

type webhook struct {
	Webhook
	updated time.Time
}

// pending is a delivery waiting for the delivery goroutine.
type pending struct {
	Delivery
	secret string
}

// event is a change Jira tells webhooks about.
type event struct {
	name, typeName string // webhookEvent, issue_event_type_name
	actor          User
	issue          *issueRec
	changelog      []obj
	comment        *Comment
	attachment     *Attachment
}

// AddWebhook registers a webhook as an administrator would in the UI and
// returns it with its id.
func (s *Server) AddWebhook(w Webhook) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.ID = s.nextID(&s.seq.hook)
	w.Events = append([]string(nil), w.Events...)
	s.hooks = append(s.hooks, &webhook{Webhook: w, updated: s.now()})
	s.changedLocked()
	return w
}

// Webhooks lists the registered webhooks.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, 0, len(s.hooks))
	for _, h := range s.hooks {
		w := h.Webhook
		w.Events = append([]string(nil), w.Events...)
		out = append(out, w)
	}
	return out
}

// Deliveries lists finished deliveries, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		d.Body = append([]byte(nil), d.Body...)
		out[i] = d
	}
	return out
}

// emitLocked queues the event for every enabled webhook that wants it.
func (s *Server) emitLocked(ev event) {
	var body []byte
	for _, h := range s.hooks {
		if h.Disabled || !contains(h.Events, ev.name) || !s.hookMatches(h, ev.issue) {
			continue
		}
		if body == nil {
			body = s.payload(ev)
		}
		p := &pending{secret: h.Secret, Delivery: Delivery{
			WebhookName: h.Name, Event: ev.name, ID: newIdentifier(),
			URL: expandURL(h.URL, ev.issue), Body: body}}
		if h.ExcludeBody {
			p.Body = []byte{}
		}
		s.queue = append(s.queue, p)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// hookMatches applies the webhook's JQL; a filter the fake cannot parse
// is ignored rather than silencing the webhook.
func (s *Server) hookMatches(h *webhook, is *issueRec) bool {
	if strings.TrimSpace(h.JQL) == "" || is == nil {
		return true
	}
	q, err := parseJQL(h.JQL)
	if err != nil {
		return true
	}
	m, jerr := s.compile(q, s.opts.Me)
	if jerr != nil {
		return true
	}
	return m(is)
}

// expandURL fills the variables Jira allows in webhook URLs.
func expandURL(u string, is *issueRec) string {
	if is == nil || !strings.Contains(u, "${") {
		return u
	}
	return strings.NewReplacer(
		"${issue.id}", is.ID, "${issue.key}", is.Key,
		"${project.id}", is.project.ID, "${project.key}", is.project.Key,
	).Replace(u)
}

func newIdentifier() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// payload renders the event like the deployment does (see the fixtures):
// Data Center comment events carry no issue, only the comment's self URL.
func (s *Server) payload(ev event) []byte {
	p := obj{"timestamp": s.now().UnixMilli(), "webhookEvent": ev.name}
	switch {
	case ev.attachment != nil:
		p["attachment"] = s.attachmentJSON(ev.attachment)
		if s.cloud && s.opts.BareAttachmentEvents {
			break
		}
		p["issue"] = obj{"id": ev.issue.ID, "self": s.api("issue/" + ev.issue.ID),
			"key": ev.issue.Key, "fields": obj{"summary": ev.issue.Summary}}
	case strings.HasPrefix(ev.name, "comment_"):
		p["comment"] = s.commentJSON(ev.issue, ev.comment)
		if s.cloud {
			p["issue"] = s.briefIssue(ev.issue)
		} else {
			p["user"] = s.userJSON(&ev.actor)
		}
	default:
		s.issuePayload(p, ev)
	}
	return marshal(p)
}

func (s *Server) issuePayload(p obj, ev event) {
	if ev.typeName != "" {
		p["issue_event_type_name"] = ev.typeName
	}
	p["user"] = s.userJSON(&ev.actor)
	fs := parseFields([]string{"*all"}, "")
	if s.cloud && ev.name != "jira:issue_deleted" {
		fs.exclude["comment"] = true // Cloud leaves comments out of issue events
	}
	// The issue as the API user sees it (a Data Center issue event lists
	// only the comments Me may read); the event's own comment below is
	// sent whole, visibility included, for the receiver to honour.
	p["issue"] = s.issueJSON(ev.issue, fs, nil, s.userID(s.opts.Me))
	if len(ev.changelog) > 0 {
		p["changelog"] = obj{"id": s.nextID(&s.seq.changelog), "items": ev.changelog}
	}
	if ev.comment != nil {
		p["comment"] = s.commentJSON(ev.issue, ev.comment)
	}
}

// briefIssue is the issue Cloud puts in comment events.
func (s *Server) briefIssue(is *issueRec) obj {
	all := s.issueFields(is, "")
	fields := obj{}
	for _, k := range []string{"summary", "issuetype", "project", "assignee", "priority", "status"} {
		fields[k] = all[k]
	}
	return obj{"id": is.ID, "self": s.api("issue/" + is.ID), "key": is.Key, "fields": fields}
}

// deliverLoop sends queued deliveries one at a time, in order.
func (s *Server) deliverLoop() {
	defer close(s.done)
	for {
		p := s.nextPending()
		if p == nil {
			select {
			case <-s.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		if !s.deliver(p) {
			return
		}
	}
}

func (s *Server) nextPending() *pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return nil
	}
	p := s.queue[0]
	s.queue = s.queue[1:]
	return p
}

// deliver posts with retries and records the outcome; false when the
// server is closing.
func (s *Server) deliver(p *pending) bool {
	backoff := firstBackoff
	for p.Attempts < maxAttempts {
		p.Attempts++
		p.Status, p.Err = s.post(p)
		if p.Err == "" && p.Status < 500 {
			break
		}
		if p.Attempts == maxAttempts {
			break
		}
		select {
		case <-time.After(backoff):
		case <-s.ctx.Done():
			return false
		}
		backoff = min(2*backoff, maxBackoff)
	}
	if s.ctx.Err() != nil {
		return false
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, p.Delivery)
	s.changedLocked()
	s.mu.Unlock()
	return true
}

// post makes one delivery attempt with Jira's headers.
func (s *Server) post(p *pending) (int, string) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("User-Agent", "Atlassian Webhook HTTP Client")
	req.Header.Set("X-Atlassian-Webhook-Identifier", p.ID)
	if p.Attempts > 1 {
		req.Header.Set("X-Atlassian-Webhook-Retry", fmt.Sprint(p.Attempts-1))
	}
	if p.secret != "" {
		req.Header.Set("X-Hub-Signature", Signature(p.secret, p.Body))
	}
	resp, err := s.httpc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, ""
}

// Signature is the X-Hub-Signature Jira sends for a body signed with
// secret: "sha256=" and the hex HMAC-SHA256.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// --- admin REST API: /rest/webhooks/1.0/webhook ---

type hookBody struct {
	Name        *string           `json:"name"`
	URL         *string           `json:"url"`
	Events      []string          `json:"events"`
	Filters     map[string]string `json:"filters"`
	ExcludeBody *bool             `json:"excludeBody"`
	Secret      *string           `json:"secret"`
	Enabled     *bool             `json:"enabled"`
	// Configuration is Data Center 10's form of the filter.
	Configuration map[string]string `json:"configuration"`
}

const filterKey = "issue-related-events-section"

func (s *Server) hookJSON(h *webhook) obj {
	events := append([]string{}, h.Events...)
	if s.opts.WebhookAPI10 {
		id, _ := strconv.Atoi(h.ID)
		return obj{
			"id":            id,
			"name":          h.Name,
			"url":           h.URL,
			"events":        events,
			"active":        !h.Disabled,
			"configuration": obj{"FILTERS": h.JQL, "EXCLUDE_BODY": strconv.FormatBool(h.ExcludeBody)},
			"createdDate":   h.updated.UnixMilli(),
			"updatedDate":   h.updated.UnixMilli(),
		}
	}
	return obj{
		"self":                   s.URL + "/rest/webhooks/1.0/webhook/" + h.ID,
		"name":                   h.Name,
		"url":                    h.URL,
		"excludeBody":            h.ExcludeBody,
		"filters":                obj{filterKey: h.JQL},
		"events":                 events,
		"enabled":                !h.Disabled,
		"lastUpdatedUser":        s.userID(s.opts.Me),
		"lastUpdatedDisplayName": s.opts.Me.DisplayName,
		"lastUpdated":            h.updated.UnixMilli(),
	}
}

func (s *Server) hook(id string) *webhook {
	for _, h := range s.hooks {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// applyHookBody merges a request body into h and validates the result.
func applyHookBody(h *Webhook, b hookBody) *Error {
	if b.Name != nil {
		h.Name = *b.Name
	}
	if b.URL != nil {
		h.URL = *b.URL
	}
	if b.Events != nil {
		h.Events = append([]string(nil), b.Events...)
	}
	if b.Filters != nil {
		h.JQL = b.Filters[filterKey]
	}
	if jql, ok := b.Configuration["FILTERS"]; ok {
		h.JQL = jql
	}
	if b.ExcludeBody != nil {
		h.ExcludeBody = *b.ExcludeBody
	}
	if b.Secret != nil {
		h.Secret = *b.Secret
	}
	if b.Enabled != nil {
		h.Disabled = !*b.Enabled
	}
	errs := map[string]string{}
	if strings.TrimSpace(h.Name) == "" {
		errs["name"] = "The webhook name must not be empty."
	}
	if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs["url"] = "The webhook URL must be a valid absolute http(s) URL."
	}
	if len(errs) > 0 {
		return errFields(errs)
	}
	return nil
}

func (s *Server) handleHooks(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case id == "" && r.Method == http.MethodGet:
		list := []any{}
		for _, h := range s.hooks {
			list = append(list, s.hookJSON(h))
		}
		writeJSON(w, 200, list)
	case id == "" && r.Method == http.MethodPost:
		s.createHook(w, r)
	case id == "":
		methodNotAllowed(w)
	default:
		s.handleHook(w, r, id)
	}
}

func (s *Server) createHook(w http.ResponseWriter, r *http.Request) {
	var b hookBody
	if !decodeBody(w, r, &b) {
		return
	}
	h := &webhook{updated: s.now()}
	if err := applyHookBody(&h.Webhook, b); err != nil {
		writeError(w, err)
		return
	}
	h.ID = s.nextID(&s.seq.hook)
	s.hooks = append(s.hooks, h)
	s.changedLocked()
	if !s.opts.WebhookAPI10 {
		w.Header().Set("Location", s.URL+"/rest/webhooks/1.0/webhook/"+h.ID)
	}
	writeJSON(w, 201, s.hookJSON(h))
}

func (s *Server) handleHook(w http.ResponseWriter, r *http.Request, id string) {
	h := s.hook(id)
	if h == nil {
		writeError(w, errMessage(404, "Webhook with id "+id+" not found."))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, 200, s.hookJSON(h))
	case http.MethodPut:
		var b hookBody
		if !decodeBody(w, r, &b) {
			return
		}
		updated := h.Webhook
		if err := applyHookBody(&updated, b); err != nil {
			writeError(w, err)
			return
		}
		h.Webhook, h.updated = updated, s.now()
		s.changedLocked()
		writeJSON(w, 200, s.hookJSON(h))
	case http.MethodDelete:
		for i, x := range s.hooks {
			if x == h {
				s.hooks = append(s.hooks[:i], s.hooks[i+1:]...)
				break
			}
		}
		s.changedLocked()
		w.WriteHeader(204)
	default:
		methodNotAllowed(w)
	}
}
