package jiratest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"
)

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.ResponseWriter.Write(b)
}

// serveHTTP records the request around serve.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path, inSite := s.sitePath(r.URL.Path)
	if !inSite {
		path = r.URL.Path
	}
	s.record(w, r, path, false, func(w http.ResponseWriter) { s.serve(w, r, path, inSite) })
}

// record runs serve and keeps the request and its answer for Requests.
func (s *Server) record(w http.ResponseWriter, r *http.Request, path string, gateway bool, serve func(http.ResponseWriter)) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	sw := &statusWriter{ResponseWriter: w}
	serve(sw)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, Status: sw.status, Gateway: gateway})
	s.changedLocked()
}

// sitePath strips ContextPath; false when the path lies outside the site.
func (s *Server) sitePath(p string) (string, bool) {
	cp := s.opts.ContextPath
	if cp == "" {
		return p, true
	}
	if p == cp {
		return "/", true
	}
	if strings.HasPrefix(p, cp+"/") {
		return p[len(cp):], true
	}
	return p, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, path string, inSite bool) {
	if !s.wait(r) {
		return
	}
	if !inSite {
		notFound(w, r)
		return
	}
	if f := s.takeFault(r.Method, path); f != nil {
		writeFault(w, f)
		return
	}
	if !s.cloud && strings.HasPrefix(path, dcOAuthPrefix) {
		// The provider's own endpoints: no user session needed.
		s.serveDCOAuth(w, r, strings.TrimPrefix(path, dcOAuthPrefix))
		return
	}
	u, ok := s.authenticate(r, path)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
		writeError(w, errMessage(401, "You are not authenticated. Authentication required to perform this operation."))
		return
	}
	if u == anonymous {
		w.Header().Set("X-Seraph-LoginReason", loginFailed)
	}
	if c := s.bearerGrant(r); c != nil && !s.scopeAllows(c.grant, r, path) {
		// RFC 6750 §3.1 insufficient_scope: a READ-only link writing.
		writeError(w, errMessage(403, "The OAuth 2.0 access token does not have the scope this operation needs."))
		return
	}
	s.route(w, withCaller(r, u), path)
}

// wait applies SetDelay; false when the client or the server gave up.
func (s *Server) wait(r *http.Request) bool {
	d := s.getDelay()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.ctx.Done():
	}
	return false
}

func writeFault(w http.ResponseWriter, f *fault) {
	if f.status == 429 || f.status == 503 {
		w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(f.retryAfter.Seconds()))))
	}
	msg := http.StatusText(f.status)
	if f.status == 429 {
		msg = "Rate limit exceeded."
	}
	writeError(w, errMessage(f.status, msg))
}

// authenticate finds who the request acts as: a person's own credential
// (AddPAT, AddAPIToken, an OAuth access token), else the configured
// credentials, which act as Me. serverInfo, like on a real site, answers
// anonymous requests, but not wrong credentials.
func (s *Server) authenticate(r *http.Request, path string) (User, bool) {
	got := r.Header.Get("Authorization")
	if got == "" && path == "/rest/api/2/serverInfo" {
		return s.opts.Me, true
	}
	if u, known, ok := s.personal(r); known {
		return u, ok
	}
	switch {
	case s.opts.User != "":
		u, p, ok := r.BasicAuth()
		return s.opts.Me, ok && equal(u, s.opts.User) && equal(p, s.opts.Token)
	case s.opts.Token != "":
		return s.opts.Me, equal(got, "Bearer "+s.opts.Token)
	}
	return s.opts.Me, true
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(marshal(v))
}

// marshal encodes like Jira: no HTML escaping of &, < and >.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, e)
}

// notFound is what Jira's REST layer answers for a path it does not know.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 404, obj{"message": "null for uri: " + r.URL.String(), "status-code": 404})
}

func methodNotAllowed(w http.ResponseWriter) {
	w.WriteHeader(405)
}

// decodeBody reads a JSON body, answering 415 or 400 like Jira when it
// cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		w.WriteHeader(415)
		return false
	}
	err := json.NewDecoder(r.Body).Decode(v)
	switch {
	case err == io.EOF:
		writeError(w, errMessage(400, "No content to map to Object due to end of input"))
		return false
	case err != nil:
		writeError(w, errMessage(400, "Unexpected character in JSON body: "+err.Error()))
		return false
	}
	return true
}

// segments splits a path after prefix into its parts.
func segments(path, prefix string) []string {
	rest := strings.Trim(strings.TrimPrefix(path, prefix), "/")
	if rest == "" {
		return nil
	}
	return strings.Split(rest, "/")
}

// route dispatches on the path relative to ContextPath.
func (s *Server) route(w http.ResponseWriter, r *http.Request, path string) {
	path = strings.Replace(path, "/rest/api/latest/", "/rest/api/2/", 1)
	switch {
	case strings.HasPrefix(path, "/rest/api/2/"):
		s.routeAPI(w, r, segments(path, "/rest/api/2/"))
	case !s.opts.WebhookAPI10 && (path == "/rest/webhooks/1.0/webhook" || strings.HasPrefix(path, "/rest/webhooks/1.0/webhook/")):
		id := strings.Join(segments(path, "/rest/webhooks/1.0/webhook"), "/")
		s.handleHooks(w, r, id)
	case s.opts.WebhookAPI10 && (path == "/rest/jira-webhook/1.0/webhooks" || strings.HasPrefix(path, "/rest/jira-webhook/1.0/webhooks/")):
		id := strings.Join(segments(path, "/rest/jira-webhook/1.0/webhooks"), "/")
		s.handleHooks(w, r, id)
	case strings.HasPrefix(path, "/secure/attachment/"):
		s.downloadAttachment(w, r, segments(path, "/secure/attachment/"))
	default:
		notFound(w, r)
	}
}

type handler func(w http.ResponseWriter, r *http.Request, parts []string)

func (s *Server) routeAPI(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) == 0 {
		notFound(w, r)
		return
	}
	routes := map[string]handler{
		"serverInfo": s.handleServerInfo,
		"myself":     s.handleMyself,
		"project":    s.handleProject,
		"issue":      s.handleIssueRoot,
		"search":     s.handleSearch,
		"user":       s.handleUser,
		"attachment": s.handleAttachment,
	}
	h, ok := routes[parts[0]]
	if !ok {
		notFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h(w, r, parts[1:])
}

// only answers 405 unless the method is allowed; true when it is.
func only(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	methodNotAllowed(w)
	return false
}
