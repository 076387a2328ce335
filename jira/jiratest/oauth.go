package jiratest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The OAuth 2.0 authorization servers: Atlassian's for Cloud (3LO, served
// at AuthURL) and Data Center's own (an incoming application link, under
// /rest/oauth2/latest/ on the site). Both issue authorization codes at a
// consent screen, exchange them for tokens, and refresh those.
//
// Sources: Cloud — https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/
// (authorize parameters, token and accessible-resources calls, the
// gateway) and https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens
// (rotating refresh tokens). Data Center — "Jira OAuth 2.0 provider API"
// (https://confluence.atlassian.com/adminjiraserver0911/jira-oauth-2-0-provider-api-1318889918.html:
// authorize and token endpoints, PKCE) and "OAuth 2.0 scopes for incoming
// links" (READ, WRITE, ADMIN, SYSTEM_ADMIN).

// OAuthClient is an OAuth 2.0 app: on Cloud one from the developer
// console, on Data Center an incoming application link.
type OAuthClient struct {
	ID, Secret string
	// RedirectURL is the one callback URL the app was registered with;
	// both servers refuse any other.
	RedirectURL string
}

// AddOAuthClient registers an OAuth 2.0 app.
func (s *Server) AddOAuthClient(c OAuthClient) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = &c
}

// grant is what a person consented to: one app, some scopes, one site.
type grant struct {
	client  string
	user    User
	scopes  []string
	siteID  string // Cloud: the cloud id of the site picked at consent
	siteURL string
	created time.Time
	revoked bool // RevokeTokens: no token of the grant works
	// reused: a rotated refresh token came back after the leeway, and
	// every refresh token of the grant died (access tokens live on).
	reused   bool
	redirect string
}

// authCode is an authorization code waiting to be exchanged.
type authCode struct {
	grant     *grant
	challenge string // PKCE S256 code_challenge, if any
	expires   time.Time
	used      bool
}

// cloudScopes are the classic Jira scopes a 3LO app may ask for
// (https://developer.atlassian.com/cloud/jira/platform/scopes-for-oauth-2-3LO-and-forge-apps/).
var cloudScopes = []string{"read:jira-work", "write:jira-work", "read:jira-user", "manage:jira-project",
	"manage:jira-configuration", "manage:jira-webhook", "manage:jira-data-provider", "read:me", "read:account", "offline_access"}

// dcScopes are the incoming link's scopes, each including those before it
// ("OAuth 2.0 scopes for incoming links").
var dcScopes = []string{"READ", "WRITE", "ADMIN", "SYSTEM_ADMIN"}

const (
	// dcOAuthPrefix is where Data Center serves its provider.
	dcOAuthPrefix = "/rest/oauth2/latest/"
	// cloudAudience is the audience 3LO authorize URLs must name.
	cloudAudience = "api.atlassian.com"
	// consentUser names the person at the consent screen: the fake's
	// stand-in for the login session a browser would carry.
	consentUser = "X-Jiratest-User"
	// consentAnswer is "allow" (the default) or "deny".
	consentAnswer = "X-Jiratest-Consent"
	// consentSite is the site URL the person picks on Cloud's consent
	// screen (default: this site).
	consentSite = "X-Jiratest-Site"
)

// Code lifetimes. Data Center keeps codes 10 seconds by default
// (atlassian.oauth2.provider.max.client.delay.seconds, "OAuth 2.0 provider
// system properties"); Atlassian documents none for Cloud, so the fake
// uses RFC 6749 §4.1.2's recommended maximum of 10 minutes.
const (
	dcCodeLife    = 10 * time.Second
	cloudCodeLife = 10 * time.Minute
)

// Token lifetimes: access tokens live an hour on both ("access_token which
// expires after 1 hour", Atlassian on
// https://community.developer.atlassian.com/t/refresh-token-expire-after-36000-seconds/60806/2;
// atlassian.oauth2.provider.access.token.expiration.seconds = 3600 on Data
// Center). Cloud's rotating refresh tokens expire after 90 days unused and
// 365 days after consent whatever happens ("Updated: 31 January 2022 -
// Action required - Deprecating persistent refresh tokens").
const (
	accessLife      = time.Hour
	refreshIdle     = 90 * 24 * time.Hour
	refreshAbsolute = 365 * 24 * time.Hour
)

// authorize serves the consent screen: Cloud's AuthURL/authorize and Data
// Center's /rest/oauth2/latest/authorize. Requests without consentUser
// get the login page a browser without a session would see.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	c := s.clients[q.Get("client_id")]
	s.mu.Unlock()
	// RFC 6749 §4.1.2.1: with an unknown client or redirect URI the
	// server must not redirect, it tells the person.
	switch {
	case c == nil:
		authPage(w, 400, "Something went wrong: the app (client_id) is not registered.")
		return
	case q.Get("redirect_uri") != c.RedirectURL:
		authPage(w, 400, "Something went wrong: the redirect_uri does not match the app's callback URL.")
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		http.Redirect(w, r, withQuery(c.RedirectURL, params), http.StatusFound)
	}
	scopes, msg := s.checkAuthorize(q)
	if msg != "" {
		back(url.Values{"error": {msgCode(msg)}, "error_description": {msg}})
		return
	}
	who := r.Header.Get(consentUser)
	if who == "" {
		authPage(w, 200, "Log in to continue to the app.")
		return
	}
	if r.Header.Get(consentAnswer) == "deny" {
		back(url.Values{"error": {"access_denied"}, "error_description": {"The user has denied access."}})
		return
	}
	code := s.newCode(c, who, scopes, q.Get("code_challenge"), r.Header.Get(consentSite))
	back(url.Values{"code": {code}})
}

// checkAuthorize validates the authorize parameters and returns the
// scopes asked for, or what is wrong ("invalid_scope: …").
func (s *Server) checkAuthorize(q url.Values) ([]string, string) {
	scopes := strings.Fields(q.Get("scope"))
	known := dcScopes
	if s.cloud {
		known = cloudScopes
	}
	switch {
	case q.Get("response_type") != "code":
		return nil, "unsupported_response_type: response_type must be code"
	case s.cloud && q.Get("audience") != cloudAudience:
		return nil, "invalid_request: audience must be " + cloudAudience
	case q.Get("state") == "":
		return nil, "invalid_request: state is required"
	case len(scopes) == 0:
		return nil, "invalid_scope: no scope asked for"
	case !s.cloud && q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		return nil, "invalid_request: code_challenge_method must be S256"
	}
	for _, sc := range scopes {
		if !slices.Contains(known, sc) {
			return nil, "invalid_scope: unknown scope " + sc
		}
	}
	return scopes, ""
}

// msgCode is the OAuth error code a checkAuthorize message starts with.
func msgCode(msg string) string {
	code, _, _ := strings.Cut(msg, ":")
	return code
}

func withQuery(base string, params url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + params.Encode()
}

func authPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!doctype html><title>Authorize</title><p>%s</p>", html.EscapeString(msg))
}

// newCode records the person's consent and hands out a code for it.
func (s *Server) newCode(c *OAuthClient, who string, scopes []string, challenge, site string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUser(who)
	if u == nil {
		s.addUserLocked(normalizeUser(User{AccountID: who, Name: who}))
		u = s.findUser(who)
	}
	g := &grant{client: c.ID, user: *u, scopes: scopes, created: s.now(), redirect: c.RedirectURL,
		siteID: s.CloudID, siteURL: s.URL}
	if site != "" && strings.TrimRight(site, "/") != s.URL {
		// A site of another Atlassian organisation: the fake serves no
		// API for it.
		g.siteID, g.siteURL = "other-"+newToken("")[:12], strings.TrimRight(site, "/")
	}
	life := dcCodeLife
	if s.cloud {
		life = cloudCodeLife
	}
	code := newToken("code-")
	s.codes[code] = &authCode{grant: g, challenge: challenge, expires: s.now().Add(life)}
	s.changedLocked()
	return code
}

// tokenError is an OAuth error answer (RFC 6749 §5.2).
type tokenError struct {
	status      int
	code, descr string
}

// token serves Cloud's AuthURL/oauth/token and Data Center's
// /rest/oauth2/latest/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodPost) {
		return
	}
	p, ok := s.tokenParams(r)
	if !ok {
		writeJSON(w, 400, obj{"error": "invalid_request", "error_description": "Malformed request body"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, terr := s.grantTokens(p)
	if terr != nil {
		writeJSON(w, terr.status, obj{"error": terr.code, "error_description": terr.descr})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, out)
}

// tokenParams reads the request's parameters. Atlassian's docs send a JSON
// body and OAuth libraries a form; Data Center's provider, a servlet,
// reads its parameters from the query string or a form body alike (its
// docs' examples put them in the query string). Client credentials count
// only as parameters, as both documents send them.
func (s *Server) tokenParams(r *http.Request) (url.Values, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if s.cloud && mt == "application/json" {
		var m map[string]string
		if json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&m) != nil {
			return nil, false
		}
		v := url.Values{}
		for k, x := range m {
			v.Set(k, x)
		}
		return v, true
	}
	if err := r.ParseForm(); err != nil {
		return nil, false
	}
	if s.cloud {
		return r.PostForm, true
	}
	return r.Form, true
}

// grantTokens checks the client and the grant and issues tokens.
func (s *Server) grantTokens(p url.Values) (obj, *tokenError) {
	c := s.clients[p.Get("client_id")]
	if c == nil || !equal(c.Secret, p.Get("client_secret")) {
		if s.cloud {
			// What Atlassian (Auth0) answers a wrong secret with, as
			// jira.js's isReauthorizationRequired documents.
			return nil, &tokenError{401, "access_denied", "Unauthorized"}
		}
		return nil, &tokenError{401, "invalid_client", "Client authentication failed"}
	}
	switch p.Get("grant_type") {
	case "authorization_code":
		return s.exchangeCode(c, p)
	case "refresh_token":
		return s.refresh(c, p)
	}
	return nil, &tokenError{400, "unsupported_grant_type", "Unsupported grant type"}
}

// invalidGrant is the refusal of a code or refresh token: Atlassian
// answers 403 ("Token endpoint … Often HTTP status: 403 … invalid_grant",
// https://nango.dev/blog/jira-oauth-refresh-token-invalid-grant), Data
// Center RFC 6749's 400.
func (s *Server) invalidGrant(descr string) *tokenError {
	if s.cloud {
		return &tokenError{403, "invalid_grant", descr}
	}
	return &tokenError{400, "invalid_grant", descr}
}

// exchangeCode redeems an authorization code once.
func (s *Server) exchangeCode(c *OAuthClient, p url.Values) (obj, *tokenError) {
	ac := s.codes[p.Get("code")]
	switch {
	case ac == nil || ac.used || !s.now().Before(ac.expires) || ac.grant.client != c.ID:
		return nil, s.invalidGrant("Invalid authorization code")
	case p.Get("redirect_uri") != ac.grant.redirect:
		return nil, s.invalidGrant("Invalid redirect_uri")
	case ac.challenge != "" && s256(p.Get("code_verifier")) != ac.challenge:
		// RFC 7636 §4.6: a verifier that does not match is invalid_grant.
		return nil, s.invalidGrant("Invalid code_verifier")
	}
	ac.used = true
	s.changedLocked()
	return s.issueTokens(ac.grant), nil
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// refresh exchanges a refresh token for a new pair. Both servers rotate:
// the old refresh token dies ("The refresh_token is invalidated with every
// …/oauth/token request", Atlassian in the thread cited at accessLife;
// for Data Center jira.js's oauth2Server auth notes "Persist the rotated
// refreshToken here — the previous one is dead"). Atlassian: "Reuse of
// old tokens outside the leeway interval invalidates all refresh tokens,
// and requires the user to re-consent. The leeway interval is 10 minutes."
// The fake's leeway is Options.RefreshReuseLeeway (default none, so a
// client that loses a rotated token fails at once). Data Center also
// checks redirect_uri on a refresh: "omitting it earns an invalid_grant
// that names nothing" (jira.js refreshServerOAuth2Token).
func (s *Server) refresh(c *OAuthClient, p url.Values) (obj, *tokenError) {
	rt := s.creds[p.Get("refresh_token")]
	now := s.now()
	switch {
	case rt == nil || rt.kind != kindRefresh || rt.grant.client != c.ID || !rt.alive(now) || rt.grant.reused:
		return nil, s.invalidGrant("Unknown or invalid refresh token.")
	case !s.cloud && p.Get("redirect_uri") != rt.grant.redirect:
		return nil, s.invalidGrant("")
	case !rt.used.IsZero() && now.Sub(rt.used) >= s.opts.RefreshReuseLeeway:
		rt.grant.reused = true
		s.changedLocked()
		return nil, s.invalidGrant("Unknown or invalid refresh token.")
	}
	if rt.used.IsZero() {
		rt.used = now
	}
	s.changedLocked()
	return s.issueTokens(rt.grant), nil
}

// issueTokens mints an access token, and a refresh token where the grant
// allows one: on Cloud only with offline_access ("To get a refresh token
// in your initial authorization flow, add offline_access to the scope
// parameter").
func (s *Server) issueTokens(g *grant) obj {
	now := s.now()
	access := newToken("at-")
	s.creds[access] = &credential{kind: kindAccess, user: g.user, grant: g, expires: now.Add(accessLife)}
	out := obj{"access_token": access, "token_type": "Bearer", "expires_in": int(accessLife.Seconds()),
		"scope": strings.Join(g.scopes, " ")}
	if s.cloud && !slices.Contains(g.scopes, "offline_access") {
		return out
	}
	refresh := newToken("rt-")
	rc := &credential{kind: kindRefresh, user: g.user, grant: g}
	if s.cloud {
		rc.expires = now.Add(refreshIdle)
		if abs := g.created.Add(refreshAbsolute); abs.Before(rc.expires) {
			rc.expires = abs
		}
	}
	s.creds[refresh] = rc
	out["refresh_token"] = refresh
	return out
}

// serveDCOAuth routes Data Center's provider endpoints.
func (s *Server) serveDCOAuth(w http.ResponseWriter, r *http.Request, rest string) {
	switch rest {
	case "authorize":
		s.authorize(w, r)
	case "token":
		s.token(w, r)
	default:
		notFound(w, r)
	}
}

// scopeAllows reports whether the grant's scopes cover the request: Cloud
// operations name theirs in the REST reference (reading issues needs
// read:jira-work, changing them write:jira-work, users and myself
// read:jira-user); Data Center's READ covers reads, WRITE changes.
func (s *Server) scopeAllows(g *grant, r *http.Request, path string) bool {
	read := r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasPrefix(path, "/rest/api/2/search")
	if !s.cloud {
		need := "WRITE"
		if read {
			need = "READ"
		}
		for _, sc := range g.scopes {
			if slices.Index(dcScopes, sc) >= slices.Index(dcScopes, need) {
				return true
			}
		}
		return false
	}
	need := "write:jira-work"
	switch {
	case strings.HasPrefix(path, "/rest/api/2/myself") || strings.HasPrefix(path, "/rest/api/2/user"):
		need = "read:jira-user"
	case read:
		need = "read:jira-work"
	}
	return slices.Contains(g.scopes, need)
}
