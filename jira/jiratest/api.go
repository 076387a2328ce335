package jiratest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// The REST API v2 handlers. routeAPI holds s.mu while they run.

func (s *Server) handleServerInfo(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) != 0 {
		notFound(w, r)
		return
	}
	if !only(w, r, http.MethodGet) {
		return
	}
	info := obj{
		"baseUrl":        s.URL,
		"serverTime":     fmtTime(s.now()),
		"scmInfo":        "jiratest",
		"serverTitle":    "Jira",
		"buildDate":      "2024-01-01T00:00:00.000+0000",
		"version":        "1001.0.0-SNAPSHOT",
		"versionNumbers": []int{1001, 0, 0},
		"buildNumber":    100283,
		"deploymentType": s.Deployment(),
	}
	if !s.cloud {
		info["version"], info["versionNumbers"], info["buildNumber"] = "9.12.2", []int{9, 12, 2}, 9120002
	}
	writeJSON(w, 200, info)
}

func (s *Server) handleMyself(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) != 0 {
		notFound(w, r)
		return
	}
	if !only(w, r, http.MethodGet) {
		return
	}
	caller := s.caller(r)
	if caller == anonymous {
		writeError(w, errMessage(401, "Client must be authenticated to access this resource."))
		return
	}
	me := s.userJSON(&caller).(obj)
	me["locale"] = "en_US"
	me["groups"] = obj{"size": 1, "items": []any{}}
	me["applicationRoles"] = obj{"size": 1, "items": []any{}}
	me["expand"] = "groups,applicationRoles"
	writeJSON(w, 200, me)
}

func (s *Server) handleProject(w http.ResponseWriter, r *http.Request, parts []string) {
	if !only(w, r, http.MethodGet) {
		return
	}
	switch len(parts) {
	case 0:
		list := []any{}
		for _, p := range s.projects {
			if s.canBrowse(s.caller(r), p.Key) {
				list = append(list, s.projectJSON(p))
			}
		}
		writeJSON(w, 200, list)
	case 1:
		p := s.project(parts[0])
		if p == nil || !s.canBrowse(s.caller(r), p.Key) {
			writeError(w, errNoProject(parts[0]))
			return
		}
		writeJSON(w, 200, s.projectFullJSON(p))
	default:
		notFound(w, r)
	}
}

func errNoProject(key string) *Error {
	return errMessage(404, fmt.Sprintf("No project could be found with key '%s'.", key))
}

// handleIssueRoot dispatches /rest/api/2/issue/…
func (s *Server) handleIssueRoot(w http.ResponseWriter, r *http.Request, parts []string) {
	switch {
	case len(parts) == 0:
		if only(w, r, http.MethodPost) {
			s.createIssueHTTP(w, r)
		}
		return
	case len(parts) == 3 && parts[0] == "createmeta" && parts[2] == "issuetypes":
		if only(w, r, http.MethodGet) {
			s.createMeta(w, r, parts[1])
		}
		return
	}
	is := s.issue(parts[0])
	if is == nil || !s.canBrowse(s.caller(r), is.Project) {
		writeError(w, errNoIssue())
		return
	}
	sub := map[string]func(http.ResponseWriter, *http.Request, *issueRec, []string){
		"comment":     s.handleComments,
		"attachments": s.handleAttach,
		"transitions": s.handleTransitions,
		"assignee":    s.handleAssignee,
		"properties":  s.handleProperties,
		"watchers":    s.handleWatchers,
	}
	if len(parts) == 1 {
		s.handleIssue(w, r, is)
		return
	}
	h, ok := sub[parts[1]]
	if !ok {
		notFound(w, r)
		return
	}
	h(w, r, is, parts[2:])
}

func (s *Server) createIssueHTTP(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Fields     map[string]json.RawMessage `json:"fields"`
		Properties []property                 `json:"properties"`
	}
	if !decodeBody(w, r, &b) {
		return
	}
	d, err := s.parseCreateAs(s.caller(r), b.Fields)
	if err == nil {
		err = checkProperties(b.Properties)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	is := s.createIssue(s.caller(r), d, b.Properties)
	writeJSON(w, 201, obj{"id": is.ID, "key": is.Key, "self": s.api("issue/" + is.ID)})
}

func (s *Server) createMeta(w http.ResponseWriter, r *http.Request, key string) {
	p := s.project(key)
	if p == nil || !s.canBrowse(s.caller(r), p.Key) {
		writeError(w, errNoProject(key))
		return
	}
	start, max := paging(r, 50)
	types := []any{}
	for _, t := range p.Types {
		types = append(types, s.issueTypeJSON(t))
	}
	page := window(types, start, max)
	out := obj{"maxResults": max, "startAt": start, "total": len(types)}
	if s.cloud {
		out["issueTypes"] = page
	} else {
		out["values"] = page
		out["isLast"] = start+len(page) >= len(types)
	}
	writeJSON(w, 200, out)
}

// paging reads startAt and maxResults.
func paging(r *http.Request, dflt int) (int, int) {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("startAt"))
	max, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || max <= 0 {
		max = dflt
	}
	return max0(start), max
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func window[T any](list []T, start, max int) []T {
	if start >= len(list) {
		return []T{}
	}
	end := min(start+max, len(list))
	return list[start:end]
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request, is *issueRec) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		fs := parseFields(q["fields"], "*all")
		writeJSON(w, 200, s.issueJSON(is, fs, parseExpand(q["expand"]...), s.userID(s.caller(r))))
	case http.MethodPut:
		var b struct {
			Fields map[string]json.RawMessage              `json:"fields"`
			Update map[string][]map[string]json.RawMessage `json:"update"`
		}
		if !decodeBody(w, r, &b) {
			return
		}
		e, err := s.parseEdit(is, b.Fields, b.Update)
		if err != nil {
			writeError(w, err)
			return
		}
		s.updateIssue(s.caller(r), is, e)
		w.WriteHeader(204)
	case http.MethodDelete:
		s.deleteIssue(s.caller(r), is)
		w.WriteHeader(204)
	default:
		methodNotAllowed(w)
	}
}

func (s *Server) handleComments(w http.ResponseWriter, r *http.Request, is *issueRec, parts []string) {
	if len(parts) == 0 {
		s.handleCommentList(w, r, is)
		return
	}
	if len(parts) > 1 {
		notFound(w, r)
		return
	}
	i, c := is.comment(parts[0])
	if c == nil || !s.readsComment(s.userID(s.caller(r)), is, c) {
		writeError(w, errNoComment(parts[0]))
		return
	}
	switch r.Method {
	case http.MethodGet:
		o := s.commentJSON(is, c)
		if strings.Contains(r.URL.Query().Get("expand"), "properties") {
			o["properties"] = commentProperties(c)
		}
		writeJSON(w, 200, o)
	case http.MethodPut:
		var b struct{ Body string }
		if !decodeBody(w, r, &b) {
			return
		}
		if err := s.editComment(s.caller(r), is, c, b.Body); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, 200, s.commentJSON(is, c))
	case http.MethodDelete:
		s.deleteComment(s.caller(r), is, i)
		w.WriteHeader(204)
	default:
		methodNotAllowed(w)
	}
}

func (s *Server) handleCommentList(w http.ResponseWriter, r *http.Request, is *issueRec) {
	switch r.Method {
	case http.MethodGet:
		start, max := paging(r, 5000)
		list := s.commentList(is, s.userID(s.caller(r)))
		if r.URL.Query().Get("orderBy") == "-created" {
			for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
				list[i], list[j] = list[j], list[i]
			}
		}
		writeJSON(w, 200, obj{"startAt": start, "maxResults": max, "total": len(list),
			"comments": window(list, start, max)})
	case http.MethodPost:
		var b struct {
			Body       string
			Visibility *Visibility `json:"visibility"`
		}
		if !decodeBody(w, r, &b) {
			return
		}
		c, err := s.addCommentWith(s.caller(r), is, b.Body, func(c *Comment) { c.Visibility = b.Visibility })
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, 201, s.commentJSON(is, c))
	default:
		methodNotAllowed(w)
	}
}

// handleAttach is POST …/attachments: multipart "file" parts, behind
// Jira's XSRF check.
func (s *Server) handleAttach(w http.ResponseWriter, r *http.Request, is *issueRec, parts []string) {
	if len(parts) != 0 {
		notFound(w, r)
		return
	}
	if !only(w, r, http.MethodPost) {
		return
	}
	if tok := strings.ToLower(r.Header.Get("X-Atlassian-Token")); tok != "no-check" && tok != "nocheck" {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(403)
		_, _ = io.WriteString(w, "XSRF check failed")
		return
	}
	files, err := s.readFiles(r)
	if err != nil {
		writeError(w, err)
		return
	}
	out := []any{}
	for _, f := range files {
		a := s.addAttachment(s.caller(r), is, f.name, f.mime, f.content)
		out = append(out, s.attachmentJSON(&a))
	}
	writeJSON(w, 200, out)
}

type upload struct {
	name, mime string
	content    []byte
}

// readFiles collects the "file" parts of a multipart body.
func (s *Server) readFiles(r *http.Request) ([]upload, *Error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &Error{Status: 415, ErrorMessages: []string{"Unsupported Media Type"}, Errors: map[string]string{}}
	}
	var files []upload
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errMessage(400, "Malformed multipart body: "+err.Error())
		}
		if p.FormName() != "file" {
			continue
		}
		content, _ := io.ReadAll(p)
		if s.opts.MaxAttachmentSize > 0 && int64(len(content)) > s.opts.MaxAttachmentSize {
			return nil, errMessage(413, fmt.Sprintf("The file %s is too large to attach.", p.FileName()))
		}
		files = append(files, upload{name: p.FileName(), mime: mimeOf(p.FileName(), p.Header.Get("Content-Type"), content), content: content})
	}
	if len(files) == 0 {
		return nil, errMessage(400, "No file was attached: send it in a multipart field named 'file'.")
	}
	return files, nil
}

// mimeOf guesses the type as Jira does: the part's own type unless it is
// generic, then the file name, then the content.
func mimeOf(name, declared string, content []byte) string {
	t := declared
	if t == "" || strings.HasPrefix(t, "application/octet-stream") {
		t = mime.TypeByExtension(path.Ext(name))
	}
	if t == "" {
		t = http.DetectContentType(content)
	}
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return "application/octet-stream"
	}
	return mt
}

// findAttachment finds an attachment on any issue.
func (s *Server) findAttachment(id string) (*issueRec, int) {
	for _, is := range s.issues {
		for i := range is.Attachments {
			if is.Attachments[i].ID == id {
				return is, i
			}
		}
	}
	return nil, -1
}

func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) == 2 && parts[0] == "content" && only(w, r, http.MethodGet) {
		s.attachmentContent(w, r, parts[1])
		return
	}
	if len(parts) != 1 {
		notFound(w, r)
		return
	}
	is, i := s.findAttachment(parts[0])
	if is == nil || !s.canBrowse(s.caller(r), is.Project) {
		writeError(w, errMessage(404, fmt.Sprintf("The attachment with id '%s' does not exist.", parts[0])))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, 200, s.attachmentJSON(&is.Attachments[i]))
	case http.MethodDelete:
		is.Attachments = append(is.Attachments[:i], is.Attachments[i+1:]...)
		s.changedLocked()
		w.WriteHeader(204)
	default:
		methodNotAllowed(w)
	}
}

// attachmentContent is GET /rest/api/2/attachment/content/{id}: a redirect
// to the file unless ?redirect=false.
func (s *Server) attachmentContent(w http.ResponseWriter, r *http.Request, id string) {
	is, i := s.findAttachment(id)
	if is == nil || !s.canBrowse(s.caller(r), is.Project) {
		writeError(w, errMessage(404, fmt.Sprintf("The attachment with id '%s' does not exist.", id)))
		return
	}
	a := &is.Attachments[i]
	if r.URL.Query().Get("redirect") == "false" {
		serveFile(w, r, a)
		return
	}
	w.Header().Set("Location", s.URL+"/secure/attachment/"+a.ID+"/"+url.PathEscape(a.Filename))
	w.WriteHeader(http.StatusSeeOther)
}

// downloadAttachment serves /secure/attachment/{id}/{filename}.
func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request, parts []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(parts) == 0 || !only(w, r, http.MethodGet, http.MethodHead) {
		if len(parts) == 0 {
			notFound(w, r)
		}
		return
	}
	is, i := s.findAttachment(parts[0])
	if is == nil || !s.canBrowse(s.caller(r), is.Project) {
		notFound(w, r)
		return
	}
	serveFile(w, r, &is.Attachments[i])
}

func serveFile(w http.ResponseWriter, r *http.Request, a *Attachment) {
	w.Header().Set("Content-Type", a.MimeType)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.Content)))
	w.WriteHeader(200)
	if r.Method == http.MethodGet {
		_, _ = w.Write(a.Content)
	}
}

func (s *Server) handleTransitions(w http.ResponseWriter, r *http.Request, is *issueRec, parts []string) {
	if len(parts) != 0 {
		notFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		expand := parseExpand(r.URL.Query()["expand"]...)
		writeJSON(w, 200, obj{"expand": "transitions", "transitions": s.transitionsJSON(is, expand["transitions.fields"])})
	case http.MethodPost:
		s.postTransition(w, r, is)
	default:
		methodNotAllowed(w)
	}
}

func (s *Server) postTransition(w http.ResponseWriter, r *http.Request, is *issueRec) {
	var b struct {
		Transition *struct {
			ID json.RawMessage `json:"id"`
		} `json:"transition"`
		Fields map[string]json.RawMessage              `json:"fields"`
		Update map[string][]map[string]json.RawMessage `json:"update"`
	}
	if !decodeBody(w, r, &b) {
		return
	}
	if b.Transition == nil || len(b.Transition.ID) == 0 {
		writeError(w, errMessage(400, "Missing 'transition' identifier"))
		return
	}
	id := strings.Trim(string(b.Transition.ID), `"`)
	if b.Fields == nil {
		b.Fields = map[string]json.RawMessage{}
	}
	resolution, _, err := s.screenValues(id, b.Fields)
	if err != nil {
		writeError(w, err)
		return
	}
	e, err := s.parseEdit(is, b.Fields, b.Update)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.transitionIssue(s.caller(r), is, id, resolution); err != nil {
		writeError(w, err)
		return
	}
	s.updateIssue(s.caller(r), is, e)
	w.WriteHeader(204)
}

// handleAssignee is PUT …/assignee with {"accountId"} on Cloud or {"name"}
// on Data Center; null or "-1" unassigns.
func (s *Server) handleAssignee(w http.ResponseWriter, r *http.Request, is *issueRec, parts []string) {
	if len(parts) != 0 {
		notFound(w, r)
		return
	}
	if !only(w, r, http.MethodPut) {
		return
	}
	var raw json.RawMessage
	if !decodeBody(w, r, &raw) {
		return
	}
	u, msg := s.userField(raw)
	if msg != "" {
		writeError(w, errFields(map[string]string{"assignee": msg}))
		return
	}
	s.assignIssue(s.caller(r), is, u)
	w.WriteHeader(204)
}

func (s *Server) handleProperties(w http.ResponseWriter, r *http.Request, is *issueRec, parts []string) {
	switch {
	case len(parts) == 0 && only(w, r, http.MethodGet):
		keys := []any{}
		for _, k := range is.propKeys {
			keys = append(keys, obj{"self": s.api("issue/" + is.ID + "/properties/" + k), "key": k})
		}
		writeJSON(w, 200, obj{"keys": keys})
	case len(parts) == 1:
		s.handleProperty(w, r, is, parts[0])
	case len(parts) > 1:
		notFound(w, r)
	}
}

func (s *Server) handleProperty(w http.ResponseWriter, r *http.Request, is *issueRec, key string) {
	missing := errMessage(404, fmt.Sprintf("The property with key '%s' does not exist.", key))
	switch r.Method {
	case http.MethodGet:
		v, ok := is.Properties[key]
		if !ok {
			writeError(w, missing)
			return
		}
		writeJSON(w, 200, obj{"key": key, "value": v})
	case http.MethodPut:
		s.putProperty(w, r, is, key)
	case http.MethodDelete:
		if !is.deleteProperty(key) {
			writeError(w, missing)
			return
		}
		s.changedLocked()
		w.WriteHeader(204)
	default:
		methodNotAllowed(w)
	}
}

// Jira refuses property values above 32 KB.
const maxPropertySize = 32768

func (s *Server) putProperty(w http.ResponseWriter, r *http.Request, is *issueRec, key string) {
	var v json.RawMessage
	if !decodeBody(w, r, &v) {
		return
	}
	if msg := checkPropertyKey(key); msg != "" {
		writeError(w, errMessage(400, msg))
		return
	}
	if len(v) > maxPropertySize {
		writeError(w, errMessage(400, "The property value is too long. The maximum size is 32768 bytes."))
		return
	}
	_, existed := is.Properties[key]
	is.setProperty(key, v)
	s.changedLocked()
	if existed {
		w.WriteHeader(200)
		return
	}
	w.WriteHeader(201)
}

func (s *Server) handleWatchers(w http.ResponseWriter, r *http.Request, is *issueRec, parts []string) {
	if len(parts) != 0 {
		notFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.listWatchers(w, r, is)
	case http.MethodPost:
		var id string
		if r.ContentLength != 0 && !decodeBody(w, r, &id) {
			return
		}
		s.changeWatcher(w, is, firstNonEmpty(id, s.userID(s.caller(r))), true)
	case http.MethodDelete:
		q := r.URL.Query()
		id := q.Get("username")
		if s.cloud {
			id = q.Get("accountId")
		}
		if id == "" {
			writeError(w, errMessage(400, "The user to stop watching the issue must be specified."))
			return
		}
		s.changeWatcher(w, is, id, false)
	default:
		methodNotAllowed(w)
	}
}

func (s *Server) listWatchers(w http.ResponseWriter, r *http.Request, is *issueRec) {
	list := []any{}
	for _, id := range is.Watchers {
		list = append(list, s.userJSON(s.findUser(id)))
	}
	writeJSON(w, 200, obj{"self": s.api("issue/" + is.Key + "/watchers"),
		"isWatching": is.watching(s.userID(s.caller(r))), "watchCount": len(list), "watchers": list})
}

func (s *Server) changeWatcher(w http.ResponseWriter, is *issueRec, id string, add bool) {
	u := s.findUser(id)
	if u == nil {
		writeError(w, errMessage(404, fmt.Sprintf("The user '%s' does not exist.", id)))
		return
	}
	uid := s.userID(*u)
	var kept []string
	for _, x := range is.Watchers {
		if x != uid {
			kept = append(kept, x)
		}
	}
	if add {
		kept = append(kept, uid)
	}
	is.Watchers = kept
	s.changedLocked()
	w.WriteHeader(204)
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request, parts []string) {
	if !only(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	switch {
	case len(parts) == 0:
		u := s.findUser(firstNonEmpty(q.Get("accountId"), q.Get("username"), q.Get("key")))
		if u == nil {
			writeError(w, errMessage(404, "The user does not exist."))
			return
		}
		writeJSON(w, 200, s.userJSON(u))
	case len(parts) == 1 && parts[0] == "search":
		s.searchUsers(w, r)
	default:
		notFound(w, r)
	}
}

// searchUsers matches ?query= (Cloud) or ?username= (Data Center) against
// names, display names and e-mail addresses.
func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	needle, param := q.Get("query"), "query"
	if !s.cloud {
		needle, param = q.Get("username"), "username"
	}
	if id := q.Get("accountId"); s.cloud && id != "" {
		needle = id
	}
	if needle == "" && !s.cloud {
		writeError(w, errMessage(400, fmt.Sprintf("The %s query parameter was not provided", param)))
		return
	}
	needle = strings.ToLower(needle)
	list := []any{}
	for i := range s.users {
		u := &s.users[i]
		hay := strings.ToLower(strings.Join([]string{u.AccountID, u.Name, u.DisplayName, u.Email}, "\n"))
		if strings.Contains(hay, needle) {
			list = append(list, s.userJSON(u))
		}
	}
	start, max := paging(r, 50)
	writeJSON(w, 200, window(list, start, max))
}
