package jiratest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// This file holds what the site knows about people beyond their names:
// their own credentials, what they may browse, what they watch. Requests
// made with a person's credential act as that person: Jira records them
// as author and applies their permissions.

type callerKey struct{}

// withCaller remembers whom the request acts as.
func withCaller(r *http.Request, u User) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, u))
}

// caller is whom the request acts as (Me for requests made with the
// configured credentials).
func (s *Server) caller(r *http.Request) User {
	if u, ok := r.Context().Value(callerKey{}).(User); ok {
		return u
	}
	return s.opts.Me
}

// credential is a person's own token.
type credential struct {
	kind    string // kindPAT, kindAPIToken, kindAccess or kindRefresh
	user    User
	email   string    // kindAPIToken: the e-mail it is used with
	expires time.Time // zero: never
	dead    bool      // ExpireTokens or RevokeTokens
	grant   *grant    // kindAccess and kindRefresh
	used    time.Time // kindRefresh: when it was exchanged; zero: not yet
}

const (
	kindPAT      = "personal access token"
	kindAPIToken = "API token"
	kindAccess   = "OAuth access token"
	kindRefresh  = "OAuth refresh token"
)

// alive reports whether the credential still authenticates at now.
func (c *credential) alive(now time.Time) bool {
	if c.dead || (!c.expires.IsZero() && !now.Before(c.expires)) {
		return false
	}
	return c.grant == nil || !c.grant.revoked
}

func newToken(prefix string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// known registers u if the site does not know it yet and returns the
// site's record.
func (s *Server) known(u User) User {
	u = normalizeUser(u)
	if k := s.findUser(s.userID(u)); k != nil {
		return *k
	}
	s.addUserLocked(u)
	s.changedLocked()
	return u
}

// AddPAT gives u a Data Center personal access token (Jira 8.14+), sent as
// "Authorization: Bearer TOKEN"; requests with it act as u. Jira Cloud has
// no personal access tokens: on Cloud it panics.
func (s *Server) AddPAT(u User) string {
	if s.cloud {
		panic("jiratest: Jira Cloud has no personal access tokens (use AddAPIToken)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := newToken("pat-")
	s.creds[tok] = &credential{kind: kindPAT, user: s.known(u)}
	return tok
}

// AddAPIToken gives u a Jira Cloud API token, used with HTTP basic auth as
// email:TOKEN (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/);
// requests with it act as u. Data Center has none: there it panics.
func (s *Server) AddAPIToken(u User, email string) string {
	if !s.cloud {
		panic("jiratest: Data Center has no API tokens (use AddPAT)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := newToken("api-")
	s.creds[tok] = &credential{kind: kindAPIToken, user: s.known(u), email: email}
	return tok
}

// ExpireTokens ends every credential of u as their expiry would: API
// tokens and PATs, OAuth access tokens, and refresh tokens (Atlassian's
// expire after 90 days unused or 365 days in all). Requests with them get
// 401, refreshes invalid_grant.
func (s *Server) ExpireTokens(u User) { s.killTokens(u, false) }

// RevokeTokens ends every credential of u as the person would by revoking
// them (Cloud: the API token page or "Connected apps"; Data Center: the
// profile's personal access tokens or "Authorized applications"): the
// OAuth grants go too, and accessible-resources no longer lists their
// sites.
func (s *Server) RevokeTokens(u User) { s.killTokens(u, true) }

func (s *Server) killTokens(u User, revoke bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.userID(normalizeUser(u))
	for _, c := range s.creds {
		if s.userID(c.user) != id {
			continue
		}
		c.dead = true
		if revoke && c.grant != nil {
			c.grant.revoked = true
		}
	}
	s.changedLocked()
}

// personal finds the person a request's own credential belongs to. known
// is false when the request carries none of theirs; ok is false when it
// does but the credential no longer works.
func (s *Server) personal(r *http.Request) (u User, known, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if email, tok, basic := r.BasicAuth(); basic {
		c := s.creds[tok]
		if c == nil || c.kind != kindAPIToken || !strings.EqualFold(c.email, email) {
			return User{}, false, false
		}
		if !c.alive(now) {
			// Jira Cloud serves a request whose API token has expired or
			// been revoked as an anonymous one, flagged only by
			// "X-Seraph-LoginReason: AUTHENTICATED_FAILED": endpoints open
			// to anonymous users answer 200 (MrRefactoring/jira.js#418).
			return anonymous, true, true
		}
		return c.user, true, true
	}
	tok, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	c := s.creds[tok]
	if !bearer || c == nil {
		return User{}, false, false
	}
	switch c.kind {
	case kindPAT:
		return c.user, true, c.alive(now)
	case kindAccess:
		// 3LO tokens work only through the API gateway, never on the
		// site's own address ("3LO tokens are only accepted through the
		// gateway", jira.js src/core/oauth/oauth2Manager.ts; Atlassian's
		// 3LO page builds every call on api.atlassian.com/ex/jira/{cloudid}).
		return c.user, true, !s.cloud && c.alive(now)
	}
	return User{}, true, false
}

// anonymous is the caller of a request Jira serves without a user.
var anonymous = User{}

// loginFailed is Jira's header for credentials it ignored.
const loginFailed = "AUTHENTICATED_FAILED"

// DenyProject takes away u's permission to browse project, as a
// permission scheme that leaves u out would: for u the project and its
// issues do not exist. Jira answers 404 "Issue does not exist or you do
// not have permission to see it." for its issues and "No project could be
// found with key" for the project, leaves them out of searches, and
// refuses to create issues there ("valid project is required").
func (s *Server) DenyProject(u User, project string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.userID(normalizeUser(u))
	if s.denied[id] == nil {
		s.denied[id] = map[string]bool{}
	}
	s.denied[id][strings.ToUpper(project)] = true
	s.changedLocked()
}

// canBrowse reports whether u may see project's issues.
func (s *Server) canBrowse(u User, project string) bool {
	if u == anonymous {
		return false // no project here grants Browse to anyone
	}
	return !s.denied[s.userID(u)][strings.ToUpper(project)]
}

// parseCreateAs is parseCreate for u, who must be able to see the project.
func (s *Server) parseCreateAs(u User, fields map[string]json.RawMessage) (*draft, *Error) {
	d, err := s.parseCreate(fields)
	if err != nil {
		return nil, err
	}
	if !s.canBrowse(u, d.project.Key) {
		return nil, errFields(map[string]string{"project": "valid project is required"})
	}
	return d, nil
}

// AddWatcher makes u watch the issue, as u would with the Watch button.
func (s *Server) AddWatcher(key string, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.issue(key)
	if is == nil {
		return errNoIssue()
	}
	s.watch(is, s.known(u))
	s.changedLocked()
	return nil
}

// watch adds u to the issue's watchers once.
func (s *Server) watch(is *issueRec, u User) {
	id := s.userID(u)
	if !is.watching(id) {
		is.Watchers = append(is.Watchers, id)
	}
}
