package jiratest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v2 "github.com/ctreminiom/go-atlassian/v2/jira/v2"
	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"
	"golang.org/x/oauth2"

	"github.com/jtbot/jtbot/jira/jiratest"
)

const callbackURL = "https://bot.example.com/oauth/jira/callback"

var app = jiratest.OAuthClient{ID: "app-id", Secret: "app-secret", RedirectURL: callbackURL}

// cloudConfig is an OAuth 2.0 (3LO) app of the Cloud fake.
func cloudConfig(srv *jiratest.Server, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret, RedirectURL: app.RedirectURL, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: srv.AuthURL + "/authorize", TokenURL: srv.AuthURL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

func cloudAuthURL(conf *oauth2.Config, state string) string {
	return conf.AuthCodeURL(state, oauth2.SetAuthURLParam("audience", "api.atlassian.com"), oauth2.SetAuthURLParam("prompt", "consent"))
}

// dcConfig is an incoming application link of the Data Center fake.
func dcConfig(srv *jiratest.Server, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: app.ID, ClientSecret: app.Secret, RedirectURL: app.RedirectURL, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/rest/oauth2/latest/authorize", TokenURL: srv.URL + "/rest/oauth2/latest/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// callback splits the URL the consent screen sent the browser to.
func callback(t *testing.T, loc string) url.Values {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, callbackURL+"?") {
		t.Fatalf("redirected to %q, want the callback", loc)
	}
	return u.Query()
}

// consentCode plays alice at the consent screen and returns the code.
func consentCode(t *testing.T, srv *jiratest.Server, authURL, state string) string {
	t.Helper()
	loc, err := srv.Consent(authURL, alice)
	if err != nil {
		t.Fatal(err)
	}
	q := callback(t, loc)
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	return q.Get("code")
}

// tokenCall posts raw parameters to a token endpoint.
func tokenCall(t *testing.T, tokenURL string, params url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(tokenURL, params)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(readAll(t, resp), &out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func gatewayClient(t *testing.T, srv *jiratest.Server, cloudID, token string) *v2.Client {
	t.Helper()
	c, err := v2.New(&http.Client{Timeout: 5 * time.Second}, srv.APIURL+"/ex/jira/"+cloudID)
	if err != nil {
		t.Fatal(err)
	}
	c.Auth.SetBearerToken(token)
	return c
}

func TestCloud3LOFlow(t *testing.T) {
	srv := newSite(t, cloudOpts)
	srv.AddOAuthClient(app)
	conf := cloudConfig(srv, "read:jira-work", "write:jira-work", "read:jira-user", "offline_access")
	code := consentCode(t, srv, cloudAuthURL(conf, "st-1"), "st-1")
	tok, err := conf.Exchange(t.Context(), code)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || time.Until(tok.Expiry) < 50*time.Minute {
		t.Errorf("token = refresh %q, expiry %v", tok.RefreshToken, tok.Expiry)
	}
	if _, err := conf.Exchange(t.Context(), code); !isOAuthError(err, 403, "invalid_grant") {
		t.Errorf("code used twice: %v", err)
	}

	// accessible-resources names this site and its cloud id.
	req, _ := http.NewRequest(http.MethodGet, srv.APIURL+"/oauth/token/accessible-resources", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sites []struct{ ID, URL string }
	if err := json.Unmarshal(readAll(t, resp), &sites); err != nil || len(sites) != 1 || sites[0].ID != srv.CloudID || sites[0].URL != srv.URL {
		t.Fatalf("accessible resources = %+v, %v", sites, err)
	}

	// The gateway acts as alice; the site itself refuses the 3LO token.
	c := gatewayClient(t, srv, srv.CloudID, tok.AccessToken)
	must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), newIssue("From the gateway"), nil))
	if is, _ := srv.Issue("PROJ-1"); is.Reporter.DisplayName != alice.DisplayName {
		t.Errorf("reporter = %+v, want alice", is.Reporter)
	}
	if r := srv.Requests(); !r[len(r)-1].Gateway || r[len(r)-1].Path != "/rest/api/2/issue" {
		t.Errorf("last request = %+v", r[len(r)-1])
	}
	site, _ := v2.New(&http.Client{Timeout: 5 * time.Second}, srv.URL)
	site.Auth.SetBearerToken(tok.AccessToken)
	if _, res, err := site.MySelf.Details(ctx(t), nil); res == nil || res.Code != 401 {
		t.Errorf("3LO token on the site: %v", err)
	}

	srv.RevokeTokens(alice)
	if _, res, _ := c.MySelf.Details(ctx(t), nil); res == nil || res.Code != 401 {
		t.Errorf("after revocation: %v", res)
	}
}

func isOAuthError(err error, status int, code string) bool {
	re, ok := err.(*oauth2.RetrieveError)
	return ok && re.Response.StatusCode == status && re.ErrorCode == code
}

func TestCloudRefreshTokensRotate(t *testing.T) {
	for _, tt := range []struct {
		name        string
		leeway      time.Duration
		reuseWorks  bool
		familyLives bool
	}{
		{"no leeway", 0, false, false},
		{"Atlassian's 10 minutes", 10 * time.Minute, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := cloudOpts
			opts.RefreshReuseLeeway = tt.leeway
			srv := newSite(t, opts)
			srv.AddOAuthClient(app)
			conf := cloudConfig(srv, "read:jira-work", "offline_access")
			tok, err := conf.Exchange(t.Context(), consentCode(t, srv, cloudAuthURL(conf, "s"), "s"))
			if err != nil {
				t.Fatal(err)
			}
			refresh := func(rt string) (int, map[string]any) {
				return tokenCall(t, conf.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {rt}, "client_id": {app.ID}, "client_secret": {app.Secret}})
			}
			status, first := refresh(tok.RefreshToken)
			if status != 200 || first["refresh_token"] == tok.RefreshToken || first["refresh_token"] == nil {
				t.Fatalf("first refresh: %d %v", status, first)
			}
			status, again := refresh(tok.RefreshToken)
			if (status == 200) != tt.reuseWorks {
				t.Fatalf("old refresh token again: %d %v", status, again)
			}
			if !tt.reuseWorks && (status != 403 || again["error"] != "invalid_grant") {
				t.Errorf("reuse answer = %d %v", status, again)
			}
			status, _ = refresh(first["refresh_token"].(string))
			if (status == 200) != tt.familyLives {
				t.Errorf("rotated token after a reuse: %d", status)
			}
		})
	}
}

func TestCloudOAuthRefusals(t *testing.T) {
	srv := newSite(t, cloudOpts)
	srv.AddOAuthClient(app)
	conf := cloudConfig(srv, "read:jira-work", "offline_access")

	bad := *conf
	bad.ClientID = "nobody"
	if _, err := srv.Consent(cloudAuthURL(&bad, "s"), alice); err == nil {
		t.Error("consent for an unknown app")
	}
	bad = *conf
	bad.RedirectURL = "https://evil.example.com/cb"
	if _, err := srv.Consent(cloudAuthURL(&bad, "s"), alice); err == nil {
		t.Error("consent redirected to an unregistered URL")
	}
	loc, err := srv.Consent(conf.AuthCodeURL("s"), alice) // no audience
	if q := callback(t, loc); err != nil || q.Get("error") != "invalid_request" || q.Get("state") != "s" {
		t.Errorf("no audience: %v %v", q, err)
	}
	loc, _ = srv.Deny(cloudAuthURL(conf, "s2"), alice)
	if q := callback(t, loc); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Errorf("denied: %v", q)
	}

	bad = *conf
	bad.ClientSecret = "wrong"
	if _, err := bad.Exchange(t.Context(), consentCode(t, srv, cloudAuthURL(conf, "s3"), "s3")); !isOAuthError(err, 401, "access_denied") {
		t.Errorf("wrong secret: %v", err)
	}

	// Without offline_access Atlassian gives no refresh token.
	short := cloudConfig(srv, "read:jira-work")
	tok, err := short.Exchange(t.Context(), consentCode(t, srv, cloudAuthURL(short, "s4"), "s4"))
	if err != nil || tok.RefreshToken != "" {
		t.Errorf("without offline_access: refresh %q, %v", tok.RefreshToken, err)
	}
	// …and read:jira-work alone cannot comment.
	c := gatewayClient(t, srv, srv.CloudID, tok.AccessToken)
	_, res, _ := c.Issue.Comment.Add(ctx(t), "PROJ-1", &models.CommentPayloadSchemeV2{Body: "x"}, nil)
	if res == nil || res.Code != 401 || !strings.Contains(res.Bytes.String(), "scope does not match") {
		t.Errorf("comment without write:jira-work: %v", res)
	}
	// A grant for another site reaches nothing here.
	loc, _ = srv.ConsentSite(cloudAuthURL(conf, "s5"), alice, "https://other.atlassian.net")
	tok, err = conf.Exchange(t.Context(), callback(t, loc).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, res, _ := gatewayClient(t, srv, srv.CloudID, tok.AccessToken).MySelf.Details(ctx(t), nil); res == nil || res.Code != 401 {
		t.Errorf("other site's token on this site: %v", res)
	}
}

func TestDataCenterPKCEFlow(t *testing.T) {
	srv := newSite(t, dcOpts)
	srv.AddOAuthClient(app)
	conf := dcConfig(srv, "WRITE")
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))

	code := consentCode(t, srv, authURL, "st")
	if _, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, 400, "invalid_grant") {
		t.Errorf("wrong verifier: %v", err)
	}
	code = consentCode(t, srv, authURL, "st")
	tok, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %+v %v", tok, err)
	}

	c, _ := v2.New(&http.Client{Timeout: 5 * time.Second}, srv.URL)
	c.Auth.SetBearerToken(tok.AccessToken)
	must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), newIssue("Mine"), nil))
	if is, _ := srv.Issue("PROJ-1"); is.Reporter.DisplayName != alice.DisplayName {
		t.Errorf("reporter = %+v, want alice", is.Reporter)
	}

	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {app.ID}, "client_secret": {app.Secret}}
	if status, out := tokenCall(t, conf.Endpoint.TokenURL, refresh); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("refresh without redirect_uri: %d %v", status, out)
	}
	refresh.Set("redirect_uri", callbackURL)
	if status, out := tokenCall(t, conf.Endpoint.TokenURL, refresh); status != 200 || out["refresh_token"] == tok.RefreshToken {
		t.Errorf("refresh: %d %v", status, out)
	}
}

func TestDataCenterReadScopeCannotWrite(t *testing.T) {
	srv := newSite(t, dcOpts)
	srv.AddOAuthClient(app)
	conf := dcConfig(srv, "READ")
	tok, err := conf.Exchange(t.Context(), consentCode(t, srv, conf.AuthCodeURL("st"), "st"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v2.New(&http.Client{Timeout: 5 * time.Second}, srv.URL)
	c.Auth.SetBearerToken(tok.AccessToken)
	must[*models.UserScheme](t)(c.MySelf.Details(ctx(t), nil))
	_, res, err := c.Issue.Create(ctx(t), newIssue("Nope"), nil)
	if code, _ := jiraError(t, res, err); code != 403 {
		t.Errorf("READ token creating: %d", code)
	}
}
