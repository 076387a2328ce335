// Package oauth signs people in to Jira with their own accounts over OAuth
// 2.0 (golang.org/x/oauth2 underneath): Jira Cloud's 3LO at Atlassian, and
// Jira Data Center's own provider (8.22+, an incoming application link,
// with PKCE). It owns the consent URL, the code exchange, refreshing and
// rotating tokens, and the /oauth/jira/callback page.
package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/jtbot/jtbot/jira"
)

// CallbackPath is where the provider sends the browser back to, under
// PUBLIC_URL (DESIGN §2).
const CallbackPath = "/oauth/jira/callback"

// RedirectURL is the callback URL to register with the OAuth app.
func RedirectURL(publicURL string) string {
	return strings.TrimRight(publicURL, "/") + CallbackPath
}

// Deployment says which provider signs people in.
type Deployment int

const (
	// Cloud is Atlassian's OAuth 2.0 (3LO).
	Cloud Deployment = iota
	// DataCenter is Jira Data Center's own provider.
	DataCenter
)

// Config is what a Provider needs, from jtbot's settings (DESIGN §3).
type Config struct {
	Server       string // JIRA_SERVER
	ClientID     string // JIRA_OAUTH_CLIENT_ID
	ClientSecret string // JIRA_OAUTH_CLIENT_SECRET
	RedirectURL  string // RedirectURL(PUBLIC_URL)
	// AuthURL and APIURL are ATLASSIAN_AUTH_URL and ATLASSIAN_API_URL
	// (Cloud only; empty: Atlassian's).
	AuthURL, APIURL string
	Deployment      Deployment
	// HTTPClient makes every call, token requests included; nil: one with
	// a 30 s timeout.
	HTTPClient *http.Client
}

// Cloud scopes: working on issues, reading users (myself, assignees), and
// offline_access, without which Atlassian hands out no refresh token.
var cloudScopes = []string{"read:jira-work", "write:jira-work", "read:jira-user", "offline_access"}

// dcScopes: WRITE includes READ ("OAuth 2.0 scopes for incoming links",
// https://confluence.atlassian.com/adminjiraserver101/oauth-2-0-scopes-for-incoming-links-1455427906.html).
var dcScopes = []string{"WRITE"}

// Provider runs the OAuth flow against one Jira site.
type Provider struct {
	conf    oauth2.Config
	server  string // JIRA_SERVER without a trailing slash
	apiURL  string
	cloud   bool
	http    *http.Client
	refresh *http.Client // http, plus what Data Center's refresh needs
}

// New builds a Provider.
func New(cfg Config) (*Provider, error) {
	switch {
	case cfg.Server == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.RedirectURL == "":
		return nil, errors.New("oauth: server, client id, client secret and redirect URL are required")
	case cfg.HTTPClient == nil:
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	p := &Provider{server: strings.TrimRight(cfg.Server, "/"), cloud: cfg.Deployment == Cloud, http: cfg.HTTPClient}
	p.conf = oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL}
	// Both providers document the client credentials as parameters. Left
	// to guess, x/oauth2 would try a header first and, refused, send the
	// one-time code a second time.
	p.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	p.refresh = p.http
	if p.cloud {
		auth := strings.TrimRight(orDefault(cfg.AuthURL, "https://auth.atlassian.com"), "/")
		p.apiURL = strings.TrimRight(orDefault(cfg.APIURL, "https://api.atlassian.com"), "/")
		p.conf.Endpoint.AuthURL, p.conf.Endpoint.TokenURL = auth+"/authorize", auth+"/oauth/token"
		p.conf.Scopes = cloudScopes
	} else {
		p.conf.Endpoint.AuthURL = p.server + "/rest/oauth2/latest/authorize"
		p.conf.Endpoint.TokenURL = p.server + "/rest/oauth2/latest/token"
		p.conf.Scopes = dcScopes
		hc := *p.http
		hc.Transport = refreshRedirect{base: transport(p.http), tokenURL: p.conf.Endpoint.TokenURL, redirect: cfg.RedirectURL}
		p.refresh = &hc
	}
	return p, nil
}

func orDefault(v, dflt string) string {
	if v == "" {
		return dflt
	}
	return v
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// Server is JIRA_SERVER, where people browse issues.
func (p *Provider) Server() string { return p.server }

// Cloud reports whether the provider is Atlassian's.
func (p *Provider) Cloud() bool { return p.cloud }

// NewVerifier makes a PKCE code verifier to keep with the state.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthURL is the consent page to send the person to. state is random,
// single use and bound to the person; verifier is the PKCE verifier kept
// with it (Data Center; Cloud's 3LO takes no PKCE and ignores it).
func (p *Provider) AuthURL(state, verifier string) string {
	if p.cloud {
		// audience and prompt as Atlassian's 3LO page builds the URL
		// (https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/).
		return p.conf.AuthCodeURL(state, oauth2.SetAuthURLParam("audience", "api.atlassian.com"),
			oauth2.SetAuthURLParam("prompt", "consent"))
	}
	return p.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Grant is a person's connection: the tokens, and where the API answers
// for them. Store it encrypted; never log it.
type Grant struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	// CloudID is the Cloud site's id (empty on Data Center).
	CloudID string
	// APIBase is where API calls go: the gateway
	// ATLASSIAN_API_URL/ex/jira/{cloudid} on Cloud, JIRA_SERVER on Data
	// Center.
	APIBase string
}

// ErrWrongSite: the person consented for another Jira site only.
var ErrWrongSite = errors.New("this Jira account has no access to JIRA_SERVER")

// ErrRefused: the provider refused the code (expired, used, wrong
// verifier) or the app's credentials. Connecting again is the fix; the
// error wraps the provider's *oauth2.RetrieveError.
var ErrRefused = errors.New("the sign-in was refused")

// Exchange trades the callback's code for a Grant. On Cloud it then picks
// the site whose URL is JIRA_SERVER from the token's accessible resources.
// Errors wrap ErrRefused or ErrWrongSite when retrying cannot help.
func (p *Provider) Exchange(ctx context.Context, code, verifier string) (Grant, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.http)
	var opts []oauth2.AuthCodeOption
	if !p.cloud {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := p.conf.Exchange(ctx, code, opts...)
	if err != nil {
		return Grant{}, tokenFailure("exchange code", err)
	}
	g := grantOf(tok)
	if !p.cloud {
		g.APIBase = p.server
		return g, nil
	}
	g.CloudID, err = p.cloudID(ctx, tok.AccessToken)
	if err != nil {
		return Grant{}, err
	}
	g.APIBase = p.apiURL + "/ex/jira/" + g.CloudID
	return g, nil
}

func grantOf(t *oauth2.Token) Grant {
	return Grant{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
}

// tokenFailure tells a refusal from an outage: an OAuth error answer, or
// any 4xx, is ErrRefused; no answer or a 5xx may pass.
func tokenFailure(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && (re.ErrorCode != "" || (re.Response != nil && re.Response.StatusCode < 500)) {
		code := re.ErrorCode
		if code == "" && re.Response != nil {
			code = re.Response.Status
		}
		return fmt.Errorf("oauth: %s: %w (%s)", op, ErrRefused, code)
	}
	return fmt.Errorf("oauth: %s: %w", op, err)
}

// resource is one site of GET /oauth/token/accessible-resources.
type resource struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// cloudID finds JIRA_SERVER among the sites the token may reach.
func (p *Provider) cloudID(ctx context.Context, accessToken string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.apiURL+"/oauth/token/accessible-resources", nil)
	if err != nil {
		return "", fmt.Errorf("oauth: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("oauth: read accessible resources: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("oauth: read accessible resources: status %d", resp.StatusCode)
	}
	var sites []resource
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&sites); err != nil {
		return "", fmt.Errorf("oauth: read accessible resources: %w", err)
	}
	want := siteKey(p.server)
	for _, s := range sites {
		if siteKey(s.URL) == want && s.ID != "" {
			return s.ID, nil
		}
	}
	return "", ErrWrongSite
}

// siteKey is a site URL reduced to what identifies it: scheme and host,
// lower case (a Cloud site has no path).
func siteKey(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// TokenSource yields the grant's access token, refreshing it when it
// expires. After every refresh onRotate gets the new grant: the refresh
// token is rotated (the old one is dead on Cloud and Data Center), so the
// caller must store it before anything else refreshes. Keep one
// TokenSource per person: two refreshing the same grant use one refresh
// token twice, and the second is refused.
func (p *Provider) TokenSource(g Grant, onRotate func(Grant)) oauth2.TokenSource {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, p.refresh)
	t := &oauth2.Token{AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, Expiry: g.Expiry, TokenType: "Bearer"}
	return &rotating{src: oauth2.ReuseTokenSource(t, p.conf.TokenSource(ctx, t)), last: g, onRotate: onRotate}
}

// rotating reports a token that differs from the last one it saw.
type rotating struct {
	src      oauth2.TokenSource
	onRotate func(Grant)

	mu   sync.Mutex
	last Grant
}

func (r *rotating) Token() (*oauth2.Token, error) {
	t, err := r.src.Token()
	if err != nil {
		return nil, tokenFailure("refresh token", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.AccessToken == r.last.AccessToken && t.RefreshToken == r.last.RefreshToken {
		return t, nil
	}
	r.last.AccessToken, r.last.RefreshToken, r.last.Expiry = t.AccessToken, t.RefreshToken, t.Expiry
	if r.onRotate != nil {
		r.onRotate(r.last)
	}
	return t, nil
}

// Client is a Jira client acting as the grant's person; see TokenSource
// for onRotate.
func (p *Provider) Client(g Grant, onRotate func(Grant)) (*jira.Client, error) {
	c, err := jira.NewPersonal(g.APIBase, p.server, jira.TokenAuth(p.TokenSource(g, onRotate)), p.http)
	if err != nil {
		return nil, err
	}
	c.SetCloud(p.cloud)
	return c, nil
}

// Revoke ends the grant at the provider, where it can be. Neither offers
// an endpoint for it: Atlassian's 3LO documents authorize, token and
// accessible-resources only, and people remove an app under "Connected
// apps" in their Atlassian account
// (https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/);
// Data Center's provider API documents authorize and token, and people
// revoke access under "Authorized applications" in their profile ("OAuth
// 2.0 scopes for incoming links"). So forgetting the tokens is all jtbot
// can do, and Revoke does nothing.
func (p *Provider) Revoke(ctx context.Context, g Grant) error { return nil }

// refreshRedirect adds redirect_uri to Data Center refresh requests: its
// provider checks it on the refresh grant too ("omitting it earns an
// invalid_grant that names nothing", jira.js refreshServerOAuth2Token),
// and x/oauth2 sends only grant_type and refresh_token.
type refreshRedirect struct {
	base               http.RoundTripper
	tokenURL, redirect string
}

func (t refreshRedirect) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.URL.String() != t.tokenURL || r.Body == nil {
		return t.base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") == "refresh_token" && form.Get("redirect_uri") == "" {
		form.Set("redirect_uri", t.redirect)
		body = []byte(form.Encode())
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return t.base.RoundTrip(r2)
}
