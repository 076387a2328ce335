package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// apiError is an error answer of the API.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

var (
	errUnauthorized = &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"}
	errNotFound     = &apiError{code: http.StatusNotFound, desc: "Not Found"}
)

// badRequest builds a 400 answer; desc is the part after "Bad Request: ".
func badRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + desc}
}

// defaultDescription is what the real API says for a bare status code.
func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return "Too Many Requests: retry after " + strconv.Itoa(retryAfter)
	case http.StatusBadGateway:
		return "Bad Gateway"
	}
	return http.StatusText(code)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	writeJSON(w, e.code, body)
}

// withDescription is a successful result that also carries a description,
// like setWebhook's "Webhook was set".
type withDescription struct {
	result      any
	description string
}

func writeResult(w http.ResponseWriter, result any) {
	body := map[string]any{"ok": true}
	if d, ok := result.(withDescription); ok {
		body["result"] = d.result
		body["description"] = d.description
	} else {
		body["result"] = result
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// The real API does not escape <, > and & in strings.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// maxUpload bounds one multipart part (the real upload limit is 50 MB).
const maxUpload = 64 << 20

// readParams collects parameters the ways the real API accepts them: query
// string, JSON body, url-encoded form or multipart form. Body values win
// over the query string.
func readParams(r *http.Request) (map[string]string, map[string]Upload, error) {
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		return params, nil, readJSONParams(r.Body, params)
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, nil, errors.New("can't parse request body")
		}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	case "multipart/form-data":
		uploads, err := readMultipart(r, params)
		return params, uploads, err
	}
	return params, nil, nil
}

func readJSONParams(body io.Reader, params map[string]string) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return errors.New("can't read request body")
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return errors.New("can't parse JSON encoded request")
	}
	for k, raw := range fields {
		if v, ok := jsonParam(raw); ok {
			params[k] = v
		}
	}
	return nil
}

// jsonParam flattens one JSON value: strings are unquoted, null is dropped,
// anything else is kept as compact JSON text.
func jsonParam(raw json.RawMessage) (string, bool) {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, true
	}
	if string(raw) == "null" {
		return "", false
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw), true
	}
	return buf.String(), true
}

// readMultipart reads a multipart body part by part. A part with a
// filename parameter is a file even when the name is empty (telebot sends
// filename="" for files from disk, which mime/multipart would treat as a
// plain value).
func readMultipart(r *http.Request, params map[string]string) (map[string]Upload, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errors.New("can't parse multipart request")
	}
	uploads := map[string]Upload{}
	inBody := map[string]bool{} // the first value of a field wins, as with forms
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return uploads, nil
		}
		if err != nil {
			return nil, errors.New("can't parse multipart request")
		}
		content, err := io.ReadAll(io.LimitReader(part, maxUpload))
		part.Close()
		if err != nil {
			return nil, errors.New("can't parse multipart request")
		}
		_, disp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name := part.FormName()
		if fileName, isFile := disp["filename"]; isFile {
			uploads[name] = Upload{FileName: fileName, Content: content}
		} else if !inBody[name] {
			params[name] = string(content)
			inBody[name] = true
		}
	}
}

// paramInt parses an integer parameter; absent or empty gives 0, false.
func paramInt(r *request, name string) (int64, bool, error) {
	v := strings.TrimSpace(r.str(name))
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, true, err
	}
	return n, true, nil
}

// paramBool parses a boolean parameter the lenient way the API does.
func paramBool(r *request, name string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(r.str(name)))
	return b
}

// fault is one FailNext rule.
type fault struct {
	method string
	left   int
	err    apiError
}

// FailNext makes the next n calls of method fail with the given error.
// method "" matches any method except getUpdates (so a polling bot does not
// swallow the fault); name getUpdates explicitly to fail polls. A 429 with
// retryAfter > 0 carries parameters.retry_after. An empty description
// becomes the real API's default text for code.
func (s *Server) FailNext(method string, n int, code int, description string, retryAfter int) {
	if n <= 0 {
		return
	}
	if description == "" {
		description = defaultDescription(code, retryAfter)
	}
	f := &fault{method: method, left: n, err: apiError{code: code, desc: description}}
	if code == http.StatusTooManyRequests && retryAfter > 0 {
		f.err.retryAfter = retryAfter
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// ClearFaults ends every injected fault: the outage is over.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFaultLocked consumes the first fault rule matching method.
func (s *Server) takeFaultLocked(method string) *apiError {
	for i, f := range s.faults {
		if !faultMatches(f.method, method) {
			continue
		}
		f.left--
		if f.left == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		e := f.err
		return &e
	}
	return nil
}

func faultMatches(rule, method string) bool {
	if rule == "" {
		return !strings.EqualFold(method, "getUpdates")
	}
	return strings.EqualFold(rule, method)
}

// SetChatError makes every send, edit and delete aimed at chatID fail with
// the given error, e.g. 403 "Forbidden: bot was blocked by the user" or
// 400 "Bad Request: chat not found". Code 0 clears it.
func (s *Server) SetChatError(chatID int64, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.chatErrors, chatID)
		return
	}
	if description == "" {
		description = defaultDescription(code, 0)
	}
	s.chatErrors[chatID] = &apiError{code: code, desc: description}
}
