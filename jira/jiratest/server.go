// Package jiratest is an in-process, stateful fake of the Jira REST API v2
// and of Jira's admin webhook API, in the spirit of net/http/httptest.
//
// It speaks the wire format real clients (go-atlassian among them) expect:
// the same paths, status codes, JSON shapes and error bodies as Jira Cloud or
// Jira Data Center, picked by Options.Deployment. Changes made through the
// API or by an Actor (a human user acting in the Jira UI) are delivered to
// registered webhooks with payloads shaped like the ones Jira sends, signed
// the way Jira signs them.
//
// The fake keeps everything in memory behind one mutex. Tests wait for
// effects with WaitFor or Changed instead of sleeping.
//
// Behaviours worth knowing, all copied from real Jira:
//
//   - Adding, editing or deleting a comment fires comment_created (…updated,
//     …deleted) and also a jira:issue_updated whose issue_event_type_name is
//     issue_commented (issue_comment_edited, issue_comment_deleted).
//   - Adding an attachment fires jira:issue_updated with an "Attachment"
//     changelog item; only Cloud also fires attachment_created.
//   - Data Center comment events carry no issue object: the issue id is in
//     comment.self (…/rest/api/2/issue/10001/comment/10100).
//   - Cloud's /rest/api/2/search answers 410 Gone; its /search/jql returns
//     only id, key and self unless fields are asked for, refuses unbounded
//     JQL and pages with nextPageToken. Data Center has only /search.
//   - Users are named by accountId on Cloud and by name on Data Center, in
//     request bodies, JQL, changelogs and payloads alike.
//   - go-atlassian's Issue.Assign builds an absolute path and so loses the
//     context path; under a ContextPath it gets 404, as it would from Jira.
//   - People have their own credentials (AddAPIToken on Cloud, AddPAT on
//     Data Center, OAuth 2.0 tokens on both): requests with them act as
//     that person, who becomes author and reporter, and whose permissions
//     apply (DenyProject: 404 for the project's issues, as Jira answers).
//   - A comment restricted to a group or role, or a Service Management
//     internal note, exists only for the people allowed to read it
//     (visibility.go): 404 alone, left out of lists, issues and text
//     searches. Options.Me is in every group and role unless told otherwise.
//   - OAuth 2.0 (oauth.go, atlassian.go): Cloud's 3LO at AuthURL and
//     APIURL, whose tokens work only through the gateway
//     APIURL/ex/jira/{CloudID}/…, and Data Center's provider under
//     /rest/oauth2/latest/ with PKCE. Refresh tokens rotate; a rotated one
//     used again kills the grant's refresh tokens. Consent plays the
//     person at the consent screen.
//   - A user watches the issues they create or comment on (autowatch);
//     an assignee is not made a watcher.
package jiratest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// User and Token are the credentials the API accepts. User != "" asks
	// for HTTP basic auth User:Token; User == "" && Token != "" asks for
	// "Authorization: Bearer Token"; both empty accept anything.
	User, Token string
	// Deployment is "Cloud" (the default) or "Server" (Data Center; also
	// accepted as "DataCenter" or "Data Center").
	Deployment string
	// ContextPath is where the site lives on the host, e.g. "/jira".
	ContextPath string
	// Me is the API user: who /myself returns and who API changes are made
	// by. Default: accountId "bot-account", name "jtbot", displayName "jtbot".
	Me User
	// Now is the clock for created/updated dates and webhook timestamps.
	// Default: time.Now in UTC. It is called with the server's lock held,
	// so it must not call back into the Server.
	Now func() time.Time
	// MaxAttachmentSize refuses larger uploads with 413 when positive.
	MaxAttachmentSize int64
	// BareAttachmentEvents (Cloud only) sends attachment_created with the
	// attachment alone and no issue, a shape Jira Cloud delivers (DESIGN §4;
	// the Cloud fixture cloud-attachment-created.json shows the usual
	// shape, with a brief issue).
	BareAttachmentEvents bool
	// SearchLag (Cloud only) hides issues created or changed less than
	// this long ago (by Now) from /search/jql unless the request's
	// reconcileIssues names them, as Cloud's search index lags. 0: none.
	SearchLag time.Duration
	// WebhookAPI10 serves the admin webhook API where Data Center 10 moved
	// it, rest/jira-webhook/1.0/webhooks (numeric ids, the filter also
	// reported under "configuration", the shape of the Data Center 10/11
	// REST docs), and answers 404 on the old rest/webhooks/1.0/webhook
	// ("Jira 10 ... moved the webhook REST resource", Atlassian's Data
	// Center 10 upgrade notes; n8n's and Sentry's Jira integrations call
	// the new path on 10+).
	WebhookAPI10 bool
	// RefreshReuseLeeway is how long a rotated OAuth refresh token may
	// still be used again. Atlassian allows 10 minutes; the default, none,
	// makes a client that loses a rotated token fail at once. Reuse after
	// the leeway kills the whole grant, as Atlassian's does.
	RefreshReuseLeeway time.Duration
}

// User is a Jira user. Cloud names users by AccountID, Data Center by Name
// (and Key, which defaults to Name).
type User struct {
	AccountID, Name, Key, DisplayName, Email string
}

// Server is a fake Jira site served by an httptest.Server.
type Server struct {
	// URL is the site's base URL, ContextPath included, without a trailing
	// slash: what a client is configured with.
	URL string
	// AuthURL and APIURL (Cloud only) are Atlassian's OAuth hosts for
	// this site: ATLASSIAN_AUTH_URL and ATLASSIAN_API_URL. CloudID is the
	// site's cloud id, as accessible-resources lists it.
	AuthURL, APIURL, CloudID string

	opts          Options
	cloud         bool
	ctx           context.Context
	stop          context.CancelFunc
	ts            *httptest.Server
	authTS, apiTS *httptest.Server // Cloud: Atlassian's OAuth hosts
	once          sync.Once
	done          chan struct{}
	wake          chan struct{}
	httpc         *http.Client

	mu         sync.Mutex
	changed    chan struct{}
	users      []User
	projects   []*project
	issues     []*issueRec
	typeIDs    map[string]string
	hooks      []*webhook
	requests   []Request
	faults     []*fault
	delay      time.Duration
	queue      []*pending
	deliveries []Delivery
	seq        counters
	screens    map[string][]TransitionField // by transition id
	searchLag  time.Duration
	creds      map[string]*credential     // people's own tokens, by value
	denied     map[string]map[string]bool // user id → projects they may not browse
	members    map[string]map[string]bool // user id → groups and roles set by tests
	clients    map[string]*OAuthClient
	codes      map[string]*authCode
}

// counters hand out ids the way Jira does: numeric strings, never reused.
type counters struct {
	project, issue, comment, attachment, changelog, hook, issueType, component int
}

// NewServer starts a fake Jira site. Close it when done.
func NewServer(opts Options) *Server {
	s := &Server{
		opts:    opts,
		cloud:   cloudDeployment(opts.Deployment),
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		changed: make(chan struct{}),
		typeIDs: map[string]string{},
		creds:   map[string]*credential{},
		denied:  map[string]map[string]bool{},
		members: map[string]map[string]bool{},
		clients: map[string]*OAuthClient{},
		codes:   map[string]*authCode{},
		httpc:   &http.Client{Timeout: 10 * time.Second},
		seq: counters{project: 10000, issue: 10001, comment: 10100,
			attachment: 10200, changelog: 10300, hook: 1, issueType: 10001},
	}
	s.opts.ContextPath = cleanContextPath(opts.ContextPath)
	s.opts.Me = normalizeUser(defaultMe(opts.Me))
	if s.opts.Now == nil {
		s.opts.Now = func() time.Time { return time.Now().UTC() }
	}
	s.users = append(s.users, s.opts.Me)
	s.searchLag = opts.SearchLag
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL + s.opts.ContextPath
	if s.cloud {
		s.startCloudHosts()
	}
	go s.deliverLoop()
	return s
}

func cloudDeployment(d string) bool {
	switch strings.ToLower(strings.ReplaceAll(d, " ", "")) {
	case "", "cloud":
		return true
	case "server", "datacenter":
		return false
	}
	panic(fmt.Sprintf("jiratest: unknown deployment %q (want Cloud or Server)", d))
}

func cleanContextPath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

func defaultMe(u User) User {
	if u == (User{}) {
		return User{AccountID: "bot-account", Name: "jtbot", DisplayName: "jtbot"}
	}
	return u
}

func normalizeUser(u User) User {
	if u.Key == "" {
		u.Key = u.Name
	}
	if u.DisplayName == "" {
		u.DisplayName = firstNonEmpty(u.Name, u.AccountID)
	}
	return u
}

// Close shuts the site down and stops webhook deliveries; undelivered
// events are dropped. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.stop()
		<-s.done
		s.ts.Close()
		s.closeCloudHosts()
		s.httpc.CloseIdleConnections()
	})
}

// Deployment is "Cloud" or "Server".
func (s *Server) Deployment() string {
	if s.cloud {
		return "Cloud"
	}
	return "Server"
}

// Me is the API user.
func (s *Server) Me() User { return s.opts.Me }

// AddProject creates a project. Its issue types default to Task, Bug and
// Story. Adding an existing key changes nothing.
func (s *Server) AddProject(key, name string, issueTypes ...string) {
	if len(issueTypes) == 0 {
		issueTypes = []string{"Task", "Bug", "Story"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.project(key) != nil {
		return
	}
	p := &project{ID: s.nextID(&s.seq.project), Key: key, Name: name}
	for _, t := range issueTypes {
		p.Types = append(p.Types, t)
		if s.typeIDs[t] == "" {
			s.typeIDs[t] = s.nextID(&s.seq.issueType)
		}
	}
	s.projects = append(s.projects, p)
	s.changedLocked()
}

// AddUser registers a user, replacing one with the same identity.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(normalizeUser(u))
	s.changedLocked()
}

func (s *Server) addUserLocked(u User) {
	for i, old := range s.users {
		if s.userID(old) == s.userID(u) {
			s.users[i] = u
			return
		}
	}
	s.users = append(s.users, u)
}

// Users lists the registered users, Me first.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]User(nil), s.users...)
}

// Issue returns a deep copy of the issue with that key or id.
func (s *Server) Issue(keyOrID string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.issue(keyOrID)
	if is == nil {
		return Issue{}, false
	}
	return is.export(), true
}

// Issues returns deep copies of all issues in creation order.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, 0, len(s.issues))
	for _, is := range s.issues {
		out = append(out, is.export())
	}
	return out
}

// Request is one HTTP request the site received.
type Request struct {
	Method string
	// Path is relative to ContextPath, e.g. "/rest/api/2/issue/PROJ-1".
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Status is the status answered; 0 when the client gave up first.
	Status int
	// Gateway is true for a call through Cloud's API gateway
	// (APIURL/ex/jira/{cloudid}/…); Path is then the part after the cloud
	// id. Calls to AuthURL and APIURL are recorded too, by their paths.
	Gateway bool
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}

// Changed returns a channel closed at the next state change: a request
// answered, an issue changed, a webhook delivered...
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// changedLocked wakes everyone waiting in Changed.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor reports whether cond became true within timeout. It evaluates
// cond now and after every state change, never by polling.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		ch := s.Changed()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return cond()
		}
	}
}

// fault is a planned failure of the next n matching requests.
type fault struct {
	method, prefix string
	n, status      int
	retryAfter     time.Duration
}

// FailNext makes the next n requests whose method matches (method "" is any)
// and whose path, relative to ContextPath, starts with pathPrefix fail with
// status and a Jira-style error body. 429 and 503 carry a Retry-After
// header in whole seconds.
func (s *Server) FailNext(method, pathPrefix string, n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: strings.ToUpper(method),
		prefix: pathPrefix, n: n, status: status, retryAfter: retryAfter})
}

// RateLimitNext makes the next n requests, whatever they are, answer 429
// with "Retry-After: <seconds>" as Jira's rate limiter does
// (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.FailNext("", "", n, http.StatusTooManyRequests, retryAfter)
}

// SetSearchLag changes Options.SearchLag.
func (s *Server) SetSearchLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searchLag = d
}

// ClearFaults ends every injected fault and delay: the outage is over.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
	s.SetDelay(0)
}

// takeFault consumes the first fault matching the request.
func (s *Server) takeFault(method, path string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.method == "" || f.method == method) && strings.HasPrefix(path, f.prefix) {
			f.n--
			if f.n <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// SetDelay delays every answer by d, before the request is acted on, so a
// client that times out leaves no trace but its Request.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

func (s *Server) getDelay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delay
}

// now is the current time at Jira's precision (milliseconds), so what the
// API returns round-trips to what Issue returns.
func (s *Server) now() time.Time {
	return s.opts.Now().Truncate(time.Millisecond)
}

func (s *Server) nextID(c *int) string {
	id := *c
	*c++
	return fmt.Sprint(id)
}

// userID is how the deployment names a user in requests and changelogs.
func (s *Server) userID(u User) string {
	if s.cloud {
		return firstNonEmpty(u.AccountID, u.Name)
	}
	return firstNonEmpty(u.Name, u.AccountID)
}

// findUser looks a user up by accountId, name, key or (failing those)
// e-mail or display name, so tests and JQL can use any of them.
func (s *Server) findUser(id string) *User {
	if id == "" {
		return nil
	}
	for i := range s.users {
		u := &s.users[i]
		if id == u.AccountID || id == u.Name || id == u.Key {
			return u
		}
	}
	for i := range s.users {
		u := &s.users[i]
		if strings.EqualFold(id, u.Email) || strings.EqualFold(id, u.DisplayName) {
			return u
		}
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
