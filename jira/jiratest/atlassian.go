package jiratest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

// Jira Cloud's OAuth lives on two other hosts: the authorization server
// (auth.atlassian.com: /authorize, /oauth/token) and the API host
// (api.atlassian.com: /oauth/token/accessible-resources and the gateway
// /ex/jira/{cloudid}/…, the only place 3LO access tokens are accepted).
// A Cloud Server starts one httptest server for each, at AuthURL and
// APIURL.

// startCloudHosts starts the Atlassian hosts of a Cloud site.
func (s *Server) startCloudHosts() {
	s.CloudID = newCloudID()
	s.authTS = httptest.NewServer(http.HandlerFunc(s.serveAuthHost))
	s.apiTS = httptest.NewServer(http.HandlerFunc(s.serveAPIHost))
	s.AuthURL, s.APIURL = s.authTS.URL, s.apiTS.URL
}

// newCloudID looks like a real cloud id: a UUID.
func newCloudID() string {
	h := newToken("")
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Server) closeCloudHosts() {
	if s.authTS != nil {
		s.authTS.Close()
		s.apiTS.Close()
	}
}

func (s *Server) serveAuthHost(w http.ResponseWriter, r *http.Request) {
	s.record(w, r, r.URL.Path, false, func(w http.ResponseWriter) {
		switch r.URL.Path {
		case "/authorize":
			s.authorize(w, r)
		case "/oauth/token":
			s.token(w, r)
		default:
			notFound(w, r)
		}
	})
}

func (s *Server) serveAPIHost(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/ex/jira/"); ok {
		s.gateway(w, r, rest)
		return
	}
	s.record(w, r, r.URL.Path, false, func(w http.ResponseWriter) {
		if r.URL.Path != "/oauth/token/accessible-resources" {
			notFound(w, r)
			return
		}
		s.accessibleResources(w, r)
	})
}

// gatewayError is the API host's own error shape, e.g.
// {"code":401,"message":"Unauthorized"}.
func gatewayError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, obj{"code": status, "message": msg})
}

// bearerGrant finds the live OAuth access token of the request.
func (s *Server) bearerGrant(r *http.Request) *credential {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.creds[tok]
	if c == nil || c.kind != kindAccess || !c.alive(s.now()) {
		return nil
	}
	return c
}

// accessibleResources lists the site the token's grant was given for:
// [{"id","url","name","scopes","avatarUrl"}], the shape Atlassian's 3LO
// page shows.
func (s *Server) accessibleResources(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodGet) {
		return
	}
	c := s.bearerGrant(r)
	if c == nil {
		gatewayError(w, 401, "Unauthorized")
		return
	}
	g := c.grant
	name := strings.TrimPrefix(strings.TrimPrefix(g.siteURL, "https://"), "http://")
	writeJSON(w, 200, []any{obj{"id": g.siteID, "url": g.siteURL, "name": name, "scopes": g.scopes,
		"avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/site.png"}})
}

// gateway serves /ex/jira/{cloudid}/… as the site would, acting as the
// token's user. A token for another site, or without the operation's
// scope, gets the gateway's "Unauthorized; scope does not match".
func (s *Server) gateway(w http.ResponseWriter, r *http.Request, rest string) {
	cloudID, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	s.record(w, r, path, true, func(w http.ResponseWriter) {
		if !s.wait(r) {
			return
		}
		if f := s.takeFault(r.Method, path); f != nil {
			writeFault(w, f)
			return
		}
		c := s.bearerGrant(r)
		switch {
		case c == nil:
			gatewayError(w, 401, "Unauthorized")
		case c.grant.siteID != cloudID || cloudID != s.CloudID || !s.scopeAllows(c.grant, r, path):
			gatewayError(w, 401, "Unauthorized; scope does not match")
		default:
			s.route(w, withCaller(r, c.user), path)
		}
	})
}

// Consent plays u at the consent screen that authURL (an AuthCodeURL of
// an OAuth app, Cloud or Data Center) opens, logged in and granting
// access: it returns the URL the browser is then sent to, the app's
// callback with code and state. Parameters the server refuses come back
// as the callback with an error, or as an error when the server shows a
// page instead (unknown app, wrong redirect_uri).
func (s *Server) Consent(authURL string, u User) (string, error) {
	return s.consent(authURL, u, "allow", "")
}

// ConsentSite is Consent where u picks another site on Cloud's consent
// screen (one of another organisation, say): the grant is for that site
// only, and accessible-resources lists only it.
func (s *Server) ConsentSite(authURL string, u User, siteURL string) (string, error) {
	return s.consent(authURL, u, "allow", siteURL)
}

// Deny is Consent where u refuses: the callback gets
// error=access_denied.
func (s *Server) Deny(authURL string, u User) (string, error) {
	return s.consent(authURL, u, "deny", "")
}

func (s *Server) consent(authURL string, u User, answer, site string) (string, error) {
	s.mu.Lock()
	u = s.known(u)
	s.mu.Unlock()
	req, err := http.NewRequest(http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(consentUser, s.userID(u))
	req.Header.Set(consentAnswer, answer)
	if site != "" {
		req.Header.Set(consentSite, site)
	}
	browser := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("jiratest: consent screen answered %d: %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if _, err := url.Parse(loc); err != nil || loc == "" {
		return "", errors.New("jiratest: consent screen redirected nowhere")
	}
	return loc, nil
}
