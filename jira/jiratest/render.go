package jiratest

import (
	"cmp"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// obj is a JSON object under construction.
type obj = map[string]any

// jiraTime is Jira's date-time format.
const jiraTime = "2006-01-02T15:04:05.000-0700"

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(jiraTime)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Server) api(path string) string { return s.URL + "/rest/api/2/" + path }

// userJSON renders a user the way the deployment does: Cloud hides name
// and key behind the accountId, Data Center has no accountId.
func (s *Server) userJSON(u *User) any {
	if u == nil {
		return nil
	}
	o := obj{
		"displayName": u.DisplayName,
		"active":      true,
		"avatarUrls":  s.avatars("useravatar"),
	}
	if u.Email != "" {
		o["emailAddress"] = u.Email
	}
	if s.cloud {
		o["self"] = s.api("user?accountId=" + url.QueryEscape(u.AccountID))
		o["accountId"] = u.AccountID
		o["accountType"] = "atlassian"
		o["timeZone"] = "Etc/UTC"
		return o
	}
	o["self"] = s.api("user?username=" + url.QueryEscape(u.Name))
	o["name"] = u.Name
	o["key"] = u.Key
	o["timeZone"] = "Etc/UTC"
	return o
}

func (s *Server) avatars(kind string) obj {
	base := s.URL + "/secure/" + kind + "?avatarId=10122"
	return obj{"48x48": base, "24x24": base + "&size=small",
		"16x16": base + "&size=xsmall", "32x32": base + "&size=medium"}
}

func (s *Server) projectJSON(p *project) obj {
	return obj{
		"self":           s.api("project/" + p.ID),
		"id":             p.ID,
		"key":            p.Key,
		"name":           p.Name,
		"projectTypeKey": cmp.Or(p.Type, "software"),
		"simplified":     false,
		"avatarUrls":     s.avatars("projectavatar"),
	}
}

func (s *Server) projectFullJSON(p *project) obj {
	o := s.projectJSON(p)
	types := []any{}
	for _, t := range p.Types {
		types = append(types, s.issueTypeJSON(t))
	}
	o["expand"] = "description,lead,issueTypes,url,projectKeys,permissions,insight"
	o["description"] = ""
	o["lead"] = s.userJSON(&s.opts.Me)
	o["components"] = []any{}
	o["issueTypes"] = types
	o["assigneeType"] = "UNASSIGNED"
	o["versions"] = []any{}
	o["roles"] = obj{}
	o["style"] = "classic"
	o["isPrivate"] = false
	o["properties"] = obj{}
	return o
}

func (s *Server) issueTypeJSON(name string) obj {
	id := s.typeIDs[name]
	return obj{
		"self":        s.api("issuetype/" + id),
		"id":          id,
		"description": "",
		"iconUrl":     s.URL + "/secure/viewavatar?size=xsmall&avatarId=10318&avatarType=issuetype",
		"name":        name,
		"subtask":     false,
		"avatarId":    10318,
	}
}

func (s *Server) statusJSON(st *status) obj {
	return obj{
		"self":        s.api("status/" + st.id),
		"description": "",
		"iconUrl":     s.URL + "/",
		"name":        st.name,
		"id":          st.id,
		"statusCategory": obj{
			"self":      s.api("statuscategory/" + itoa(st.catID)),
			"id":        st.catID,
			"key":       st.catKey,
			"colorName": st.color,
			"name":      st.name,
		},
	}
}

func (s *Server) priorityJSON(name string) any {
	if name == "" {
		return nil
	}
	id := priorityID(name)
	return obj{
		"self":    s.api("priority/" + id),
		"iconUrl": s.URL + "/images/icons/priorities/" + strings.ToLower(name) + ".svg",
		"name":    name,
		"id":      id,
	}
}

func (s *Server) resolutionJSON(name string) any {
	if name == "" {
		return nil
	}
	id := firstNonEmpty(resolutionID(name), resolutionDoneID)
	return obj{
		"self":        s.api("resolution/" + id),
		"id":          id,
		"description": "Work has been completed on this issue.",
		"name":        name,
	}
}

func (s *Server) commentJSON(is *issueRec, c *Comment) obj {
	o := obj{
		"self":         s.api("issue/" + is.ID + "/comment/" + c.ID),
		"id":           c.ID,
		"author":       s.userJSON(&c.Author),
		"body":         c.Body,
		"updateAuthor": s.userJSON(&c.UpdateAuthor),
		"created":      fmtTime(c.Created),
		"updated":      fmtTime(c.Updated),
	}
	if c.Visibility != nil {
		v := obj{"type": c.Visibility.Type, "value": c.Visibility.Value}
		if s.cloud {
			v["identifier"] = c.Visibility.Value
		}
		o["visibility"] = v
	}
	if s.cloud {
		// On the comment itself, as in the Cloud comment fixtures. Data
		// Center keeps internal notes in the sd.public.comment comment
		// property instead, which webhooks do not carry.
		o["jsdPublic"] = !c.Internal
	}
	return o
}

// commentProperties are a comment's entity properties as GET
// …/comment/{id}?expand=properties shows them. Service Management marks
// a note internal with sd.public.comment {"internal": true} on both
// deployments (its REST docs; pycontribs/jira#313 and jenkinsci/jira-plugin#375
// write it that way); only Cloud also puts jsdPublic on the comment.
func commentProperties(c *Comment) []any {
	if !c.Internal {
		return []any{}
	}
	return []any{obj{"key": "sd.public.comment", "value": obj{"internal": true}}}
}

// commentList renders the comments viewer (a user id) may read.
func (s *Server) commentList(is *issueRec, viewer string) []any {
	list := []any{}
	for i := range is.Comments {
		if c := &is.Comments[i]; s.readsComment(viewer, is, c) {
			list = append(list, s.commentJSON(is, c))
		}
	}
	return list
}

// securityJSON renders a security level as issue fields carry it.
func (s *Server) securityJSON(name string) any {
	if name == "" {
		return nil
	}
	return obj{"self": s.api("securitylevel/10000"), "id": "10000", "name": name, "description": ""}
}

// commentsJSON is the issue's comment field as viewer (a user id) sees it.
func (s *Server) commentsJSON(is *issueRec, viewer string) obj {
	list := s.commentList(is, viewer)
	return obj{"comments": list, "maxResults": len(list), "total": len(list), "startAt": 0}
}

func (s *Server) attachmentJSON(a *Attachment) obj {
	return obj{
		"self":     s.api("attachment/" + a.ID),
		"id":       a.ID,
		"filename": a.Filename,
		"author":   s.userJSON(&a.Author),
		"created":  fmtTime(a.Created),
		"size":     a.Size,
		"mimeType": a.MimeType,
		"content":  s.URL + "/secure/attachment/" + a.ID + "/" + url.PathEscape(a.Filename),
	}
}

// issueFields renders every field as viewer (a user id) sees it: their
// watches.isWatching, the comments they may read.
func (s *Server) issueFields(is *issueRec, viewer string) obj {
	atts := []any{}
	for i := range is.Attachments {
		atts = append(atts, s.attachmentJSON(&is.Attachments[i]))
	}
	labels := append([]string{}, is.Labels...)
	return obj{
		"summary":        is.Summary,
		"description":    nullable(is.Description),
		"issuetype":      s.issueTypeJSON(is.Type),
		"project":        s.projectJSON(is.project),
		"status":         s.statusJSON(statusNamed(is.Status)),
		"assignee":       s.userJSON(is.Assignee),
		"reporter":       s.userJSON(is.Reporter),
		"creator":        s.userJSON(is.Reporter),
		"priority":       s.priorityJSON(is.Priority),
		"labels":         labels,
		"resolution":     s.resolutionJSON(is.Resolution),
		"security":       s.securityJSON(is.Security),
		"resolutiondate": fmtTime(is.resolved),
		"created":        fmtTime(is.Created),
		"updated":        fmtTime(is.Updated),
		"comment":        s.commentsJSON(is, viewer),
		"attachment":     atts,
		"watches": obj{
			"self":       s.api("issue/" + is.Key + "/watchers"),
			"watchCount": len(is.Watchers),
			"isWatching": is.watching(viewer),
		},
		"subtasks":    []any{},
		"issuelinks":  []any{},
		"components":  s.componentsJSON(is),
		"fixVersions": []any{},
		"versions":    []any{},
		"environment": nil,
		"duedate":     nil,
	}
}

// fieldSet is a "fields" request parameter: names, *all, *navigable and
// -name exclusions.
type fieldSet struct {
	all, navigable bool
	include        map[string]bool
	exclude        map[string]bool
}

func parseFields(list []string, dflt string) fieldSet {
	fs := fieldSet{include: map[string]bool{}, exclude: map[string]bool{}}
	if len(list) == 0 {
		list = []string{dflt}
	}
	for _, f := range list {
		for _, name := range strings.Split(f, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "*all":
				fs.all = true
			case name == "*navigable":
				fs.navigable = true
			case strings.HasPrefix(name, "-"):
				fs.exclude[name[1:]] = true
			case name != "":
				fs.include[name] = true
			}
		}
	}
	return fs
}

// notNavigable are the fields "*navigable" leaves out.
var notNavigable = map[string]bool{"comment": true}

func (fs fieldSet) wants(name string) bool {
	if fs.exclude[name] {
		return false
	}
	return fs.all || fs.include[name] || (fs.navigable && !notNavigable[name])
}

// issueJSON renders an issue with the chosen fields and expansions.
func (s *Server) issueJSON(is *issueRec, fs fieldSet, expand map[string]bool, viewer string) obj {
	o := obj{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     is.ID,
		"self":   s.api("issue/" + is.ID),
		"key":    is.Key,
	}
	fields := obj{}
	for name, v := range s.issueFields(is, viewer) {
		if fs.wants(name) {
			fields[name] = v
		}
	}
	if len(fields) > 0 {
		o["fields"] = fields
	}
	if expand["transitions"] || expand["transitions.fields"] {
		o["transitions"] = s.transitionsJSON(is, expand["transitions.fields"])
	}
	return o
}

func (s *Server) transitionsJSON(is *issueRec, withFields bool) []any {
	out := []any{}
	for i := range statuses {
		st := &statuses[i]
		if st.name == is.Status {
			continue
		}
		screen := s.screens[st.transition]
		t := obj{
			"id": st.transition, "name": st.name, "to": s.statusJSON(st),
			"hasScreen": len(screen) > 0, "isGlobal": true, "isInitial": false,
			"isAvailable": true, "isConditional": false, "isLooped": false,
		}
		if withFields {
			fields := obj{}
			for _, f := range screen {
				fields[f.ID] = s.fieldMetaJSON(f)
			}
			t["fields"] = fields
		}
		out = append(out, t)
	}
	return out
}

func parseExpand(values ...string) map[string]bool {
	out := map[string]bool{}
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out[e] = true
			}
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
