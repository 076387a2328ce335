package jira

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	v2 "github.com/ctreminiom/go-atlassian/v2/jira/v2"
	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"
	"golang.org/x/oauth2"
)

// Auth is how a Client proves whom it acts as: build it with BasicAuth,
// BearerAuth or TokenAuth.
type Auth struct {
	email, token string
	source       oauth2.TokenSource
}

// BasicAuth is a Jira Cloud account's e-mail and API token.
func BasicAuth(email, apiToken string) Auth { return Auth{email: email, token: apiToken} }

// BearerAuth is a fixed bearer token: a Data Center personal access token.
func BearerAuth(token string) Auth { return Auth{token: token} }

// TokenAuth is an OAuth 2.0 access token that src refreshes when it
// expires (jira/oauth's Provider.TokenSource).
func TokenAuth(src oauth2.TokenSource) Auth { return Auth{source: src} }

// NewPersonal builds a client that acts as one person. apiBase is where
// the REST API answers: JIRA_SERVER, or on Cloud with OAuth the gateway
// ATLASSIAN_API_URL/ex/jira/{cloudid}, which accepts 3LO tokens where the
// site itself does not. browseServer is JIRA_SERVER: people open issues
// there, whatever address the API calls go to.
func NewPersonal(apiBase, browseServer string, auth Auth, httpClient *http.Client) (*Client, error) {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	if auth.source != nil {
		hc := *httpClient
		hc.Transport = &oauth2.Transport{Source: grantSource{auth.source}, Base: httpClient.Transport}
		httpClient = &hc
	}
	api, err := v2.New(httpClient, apiBase)
	if err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	switch {
	case auth.source != nil:
		// oauth2.Transport sets the header on every request.
	case auth.email != "":
		api.Auth.SetBasicAuth(auth.email, auth.token)
	default:
		api.Auth.SetBearerToken(auth.token)
	}
	return &Client{api: api, server: strings.TrimRight(browseServer, "/")}, nil
}

// SetCloud tells the client which deployment it talks to, so that it need
// not ask serverInfo first (a personal client is often short-lived).
func (c *Client) SetCloud(cloud bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cloud = &cloud
}

// ErrGrantRefused: the OAuth grant no longer yields access tokens: it was
// revoked, it expired, or its refresh token was used up. Only the person
// can fix that, by connecting again.
var ErrGrantRefused = errors.New("the Jira authorisation was refused: connect again")

// grantSource marks the errors of a token source so that classify can
// tell a refused grant (permanent, like a 401) from a token endpoint that
// could not be reached (temporary).
type grantSource struct{ src oauth2.TokenSource }

func (g grantSource) Token() (*oauth2.Token, error) {
	t, err := g.src.Token()
	if err != nil {
		return nil, &grantError{err: err}
	}
	return t, nil
}

type grantError struct{ err error }

func (e *grantError) Error() string { return "refresh access token: " + e.err.Error() }

func (e *grantError) Unwrap() error { return e.err }

// temporary: no answer, or the token endpoint's own outage or rate limit.
// An OAuth error answer (invalid_grant, access_denied…) is final.
func (e *grantError) temporary() bool {
	var re *oauth2.RetrieveError
	if errors.As(e.err, &re) {
		code := 0
		if re.Response != nil {
			code = re.Response.StatusCode
		}
		return re.ErrorCode == "" && (code >= 500 || code == http.StatusTooManyRequests)
	}
	var ne net.Error
	return errors.As(e.err, &ne)
}

// grantFailure turns a token source's failure into an *Error: status 401
// when the grant is refused, as if Jira had answered it.
func grantFailure(op string, err error) (*Error, bool) {
	var ge *grantError
	if !errors.As(err, &ge) {
		return nil, false
	}
	if ge.temporary() {
		return &Error{Op: op, Err: plainNetError(ge.err)}, true
	}
	msg := ErrGrantRefused.Error()
	var re *oauth2.RetrieveError
	if errors.As(ge.err, &re) && re.ErrorCode != "" {
		msg += " (" + re.ErrorCode + ")"
	}
	return &Error{Op: op, Status: http.StatusUnauthorized, Message: msg, Err: ErrGrantRefused}, true
}

// loginIgnored catches Jira Cloud serving a request as anonymous because
// it refused the credentials (an expired or revoked API token): the answer
// may be a 200 with nothing visible, flagged only by X-Seraph-LoginReason
// (MrRefactoring/jira.js#418). It becomes the 401 it means.
func loginIgnored(op string, resp *models.ResponseScheme) (*Error, bool) {
	if resp == nil || resp.Response == nil {
		return nil, false
	}
	switch resp.Response.Header.Get("X-Seraph-LoginReason") {
	case "AUTHENTICATED_FAILED", "AUTHENTICATION_DENIED":
		return &Error{Op: op, Status: http.StatusUnauthorized, Message: "Jira did not accept the credentials",
			Err: models.ErrUnauthorized}, true
	}
	return nil, false
}

// IsUnauthorized reports a Jira 401: the credentials are wrong, expired or
// revoked (a refused OAuth grant included).
func IsUnauthorized(err error) bool {
	var je *Error
	return errors.As(err, &je) && je.Status == http.StatusUnauthorized
}
