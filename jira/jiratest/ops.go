package jiratest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the state changes shared by the REST API and Actor. Each
// runs with s.mu held, validates like Jira, changes state and queues the
// webhook events Jira would fire.

// draft is a validated issue creation.
type draft struct {
	project              *project
	typ                  string
	summary, description string
	labels               []string
	priority             string
	assignee, reporter   *User
	hasRepor             bool
}

func cannotSet(name string) string {
	return fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", name)
}

// parseCreate validates the "fields" of an issue creation.
func (s *Server) parseCreate(fields map[string]json.RawMessage) (*draft, *Error) {
	d := &draft{priority: "Medium"}
	errs := map[string]string{}
	for _, name := range sortedKeys(fields) {
		if msg := s.setDraftField(d, name, fields[name]); msg != "" {
			errs[name] = msg
		}
	}
	switch {
	case d.project == nil:
		errs["project"] = "valid project is required"
	case !d.project.hasType(d.typ):
		errs["issuetype"] = "Specify a valid issue type"
	}
	if _, ok := fields["summary"]; !ok {
		errs["summary"] = "You must specify a summary of the issue."
	}
	if len(errs) > 0 {
		return nil, errFields(errs)
	}
	return d, nil
}

// setDraftField applies one creation field and returns Jira's complaint.
func (s *Server) setDraftField(d *draft, name string, raw json.RawMessage) string {
	var msg string
	switch name {
	case "project":
		d.project = s.project(refString(raw, "key", "id"))
	case "issuetype":
		// Checked against the project once all fields are read.
		d.typ = s.typeName(refString(raw, "name", "id"))
	case "summary":
		d.summary, msg = textField(raw, s.checkSummary)
	case "description":
		d.description, msg = textField(raw, checkDescription)
	case "labels":
		d.labels, msg = labelsField(raw)
	case "priority":
		d.priority, msg = priorityField(raw)
	case "assignee":
		d.assignee, msg = s.userField(raw)
	case "reporter":
		d.reporter, msg = s.userField(raw)
		d.hasRepor = true
	default:
		msg = cannotSet(name)
	}
	return msg
}

// refString reads the first present key of a reference like {"key":"X"}
// or {"id":"10000"}.
func refString(raw json.RawMessage, keys ...string) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
	}
	return ""
}

func (s *Server) typeName(nameOrID string) string {
	for name, id := range s.typeIDs {
		if strings.EqualFold(name, nameOrID) || id == nameOrID {
			return name
		}
	}
	return ""
}

func textField(raw json.RawMessage, check func(string) string) (string, string) {
	var v *string
	if json.Unmarshal(raw, &v) != nil {
		return "", "Operation value must be a string"
	}
	if v == nil {
		return "", check("")
	}
	return *v, check(*v)
}

// utf16Len counts like Jira, which is Java: its length checks use
// String.length(), UTF-16 code units, so a character outside the Basic
// Multilingual Plane (most emoji) counts 2.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// checkSummary refuses what Jira refuses. Over 255 units, Data Center
// answers {"errorMessages":[],"errors":{"summary":"Summary must be less
// than 255 characters."}} (a real answer quoted in
// https://github.com/ryanhoskin/pd2jira/issues/13) and Cloud "Summary
// can't exceed 255 characters." (quoted in
// https://github.com/tenable/integration-jira-cloud/issues/322 and
// https://github.com/prometheus-community/jiralert/issues/123).
func (s *Server) checkSummary(v string) string {
	if utf16Len(v) > 255 {
		if s.cloud {
			return "Summary can't exceed 255 characters."
		}
		return "Summary must be less than 255 characters."
	}
	return checkSummaryText(v)
}

func checkSummaryText(v string) string {
	switch {
	case strings.TrimSpace(v) == "":
		return "You must specify a summary of the issue."
	case strings.ContainsAny(v, "\r\n"):
		return "The summary is invalid because it contains newline characters."
	}
	return ""
}

func checkDescription(v string) string {
	if utf16Len(v) > maxText {
		return tooLong
	}
	return ""
}

func labelsField(raw json.RawMessage) ([]string, string) {
	var labels []string
	if json.Unmarshal(raw, &labels) != nil {
		return nil, "data was not an array"
	}
	return labels, checkLabels(labels)
}

func checkLabels(labels []string) string {
	for _, l := range labels {
		switch {
		case strings.ContainsAny(l, " \t\r\n"):
			return fmt.Sprintf("The label '%s' contains spaces which is invalid.", l)
		case utf16Len(l) > 255:
			return fmt.Sprintf("The label '%s' exceeds the maximum length for a single label of 255 characters.", l)
		case l == "":
			return "The label '' contains spaces which is invalid."
		}
	}
	return ""
}

func priorityField(raw json.RawMessage) (string, string) {
	ref := refString(raw, "name", "id")
	if p := priorityByID(ref); p != "" {
		return p, ""
	}
	if id := priorityID(ref); id != "" {
		return priorityByID(id), ""
	}
	return "", "The priority selected is invalid."
}

// userField reads {"accountId": …} on Cloud or {"name": …} on Data Center;
// null, a missing identifier or "-1" means nobody.
func (s *Server) userField(raw json.RawMessage) (*User, string) {
	key := "name"
	if s.cloud {
		key = "accountId"
	}
	id := refString(raw, key)
	if id == "" || id == "-1" {
		return nil, ""
	}
	u := s.findUser(id)
	if u == nil {
		return nil, fmt.Sprintf("User '%s' does not exist.", id)
	}
	return copyUser(u), ""
}

// createIssue adds an issue made by actor.
func (s *Server) createIssue(actor User, d *draft, props []property) *issueRec {
	p := d.project
	p.last++
	now := s.now()
	reporter := copyUser(&actor)
	if d.hasRepor && d.reporter != nil {
		reporter = d.reporter
	}
	is := &issueRec{project: p, Issue: Issue{
		ID:          s.nextID(&s.seq.issue),
		Key:         fmt.Sprintf("%s-%d", p.Key, p.last),
		Project:     p.Key,
		Type:        d.typ,
		Summary:     d.summary,
		Description: d.description,
		Labels:      append([]string{}, d.labels...),
		Status:      statuses[0].name,
		Priority:    d.priority,
		Assignee:    d.assignee,
		Reporter:    reporter,
		Created:     now,
		Updated:     now,
		// Jira's AutoWatchService: a user watches the issues they create
		// or comment on, unless they turned autowatch off
		// (https://docs.atlassian.com/jira/7.0.8/com/atlassian/jira/bc/issue/watcher/package-summary.html).
		// The assignee is not made a watcher: the notification scheme
		// tells them.
		Watchers: []string{s.userID(actor)},
	}}
	for _, pr := range props {
		is.setProperty(pr.Key, pr.Value)
	}
	s.issues = append(s.issues, is)
	s.emitLocked(event{name: "jira:issue_created", typeName: "issue_created",
		actor: actor, issue: is, changelog: s.creationLog(is)})
	s.changedLocked()
	return is
}

// creationLog is the changelog Jira Cloud attaches to issue_created.
func (s *Server) creationLog(is *issueRec) []obj {
	items := []obj{
		s.item("summary", "", "", "", is.Summary),
		s.item("status", "", "", statusNamed(is.Status).id, is.Status),
		s.item("priority", "", "", priorityID(is.Priority), is.Priority),
		s.item("reporter", "", "", s.userID(*is.Reporter), is.Reporter.DisplayName),
	}
	if is.Description != "" {
		items = append(items, s.item("description", "", "", "", is.Description))
	}
	return items
}

// item is one changelog entry; empty strings are JSON nulls.
func (s *Server) item(field, from, fromString, to, toString string) obj {
	o := obj{"field": field, "fieldtype": "jira", "from": nullable(from),
		"fromString": nullable(fromString), "to": nullable(to), "toString": nullable(toString)}
	if s.cloud {
		o["fieldId"] = field
	}
	return o
}

// property is an issue property as the API carries it.
type property struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

func checkProperties(props []property) *Error {
	for _, p := range props {
		if msg := checkPropertyKey(p.Key); msg != "" {
			return errMessage(400, msg)
		}
	}
	return nil
}

func checkPropertyKey(key string) string {
	switch {
	case key == "":
		return "The property key cannot be null or empty."
	case utf8.RuneCountInString(key) > 255:
		return "The property key is too long. The maximum length is 255 characters."
	}
	return ""
}

// edit is a validated issue update.
type edit struct {
	summary, description, priority *string
	labels, components             *[]string
	assignee                       **User
}

// parseEdit validates the "fields" and "update" of an issue update.
func (s *Server) parseEdit(is *issueRec, fields map[string]json.RawMessage, update map[string][]map[string]json.RawMessage) (*edit, *Error) {
	e := &edit{}
	errs := map[string]string{}
	for _, name := range sortedKeys(fields) {
		if msg := s.setEditField(e, is, name, fields[name]); msg != "" {
			errs[name] = msg
		}
	}
	for _, name := range sortedKeys(update) {
		if msg := s.applyOps(e, is, name, update[name]); msg != "" {
			errs[name] = msg
		}
	}
	if len(errs) > 0 {
		return nil, errFields(errs)
	}
	return e, nil
}

func (s *Server) setEditField(e *edit, is *issueRec, name string, raw json.RawMessage) string {
	var msg string
	switch name {
	case "summary":
		var v string
		v, msg = textField(raw, s.checkSummary)
		e.summary = &v
	case "description":
		var v string
		v, msg = textField(raw, checkDescription)
		e.description = &v
	case "labels":
		var v []string
		v, msg = labelsField(raw)
		e.labels = &v
	case "components":
		var v []string
		v, msg = componentsField(raw, is.project)
		e.components = &v
	case "priority":
		var v string
		v, msg = priorityField(raw)
		e.priority = &v
	case "assignee":
		var u *User
		u, msg = s.userField(raw)
		e.assignee = &u
	default:
		msg = cannotSet(name)
	}
	return msg
}

// applyOps applies "update" operations: labels add/remove/set, and set for
// the other editable fields.
func (s *Server) applyOps(e *edit, is *issueRec, name string, ops []map[string]json.RawMessage) string {
	if name == "labels" {
		return applyLabelOps(e, is, ops)
	}
	for _, op := range ops {
		raw, ok := op["set"]
		if !ok || len(op) != 1 {
			return cannotSet(name)
		}
		if msg := s.setEditField(e, is, name, raw); msg != "" {
			return msg
		}
	}
	return ""
}

func applyLabelOps(e *edit, is *issueRec, ops []map[string]json.RawMessage) string {
	labels := append([]string{}, is.Labels...)
	if e.labels != nil {
		labels = *e.labels
	}
	for _, op := range ops {
		for verb, raw := range op {
			var err error
			switch verb {
			case "set":
				err = json.Unmarshal(raw, &labels)
			case "add", "remove":
				var l string
				if err = json.Unmarshal(raw, &l); err == nil {
					labels = editLabels(labels, verb, l)
				}
			default:
				return cannotSet("labels")
			}
			if err != nil {
				return "Operation value must be a string"
			}
		}
	}
	if msg := checkLabels(labels); msg != "" {
		return msg
	}
	e.labels = &labels
	return ""
}

func editLabels(labels []string, verb, l string) []string {
	out := []string{}
	for _, x := range labels {
		if x != l {
			out = append(out, x)
		}
	}
	if verb == "add" {
		out = append(out, l)
	}
	return out
}

// updateIssue applies an edit; no change fires no event.
func (s *Server) updateIssue(actor User, is *issueRec, e *edit) {
	var items []obj
	if e.summary != nil && *e.summary != is.Summary {
		items = append(items, s.item("summary", "", is.Summary, "", *e.summary))
		is.Summary = *e.summary
	}
	if e.description != nil && *e.description != is.Description {
		items = append(items, s.item("description", "", is.Description, "", *e.description))
		is.Description = *e.description
	}
	if e.labels != nil && strings.Join(*e.labels, " ") != strings.Join(is.Labels, " ") {
		items = append(items, s.item("labels", "", strings.Join(is.Labels, " "), "", strings.Join(*e.labels, " ")))
		is.Labels = append([]string{}, *e.labels...)
	}
	if e.components != nil {
		if changes := s.componentChanges(is, *e.components); len(changes) > 0 {
			items = append(items, changes...)
			is.Components = append([]string{}, *e.components...)
		}
	}
	if e.priority != nil && *e.priority != is.Priority {
		items = append(items, s.item("priority", priorityID(is.Priority), is.Priority, priorityID(*e.priority), *e.priority))
		is.Priority = *e.priority
	}
	if e.assignee != nil {
		items = append(items, s.reassign(is, *e.assignee)...)
	}
	if len(items) == 0 {
		return
	}
	is.Updated = s.now()
	s.emitLocked(event{name: "jira:issue_updated", typeName: "issue_updated",
		actor: actor, issue: is, changelog: items})
	s.changedLocked()
}

// reassign changes the assignee and returns the changelog, if any.
func (s *Server) reassign(is *issueRec, to *User) []obj {
	var from, fromName, toID, toName string
	if is.Assignee != nil {
		from, fromName = s.userID(*is.Assignee), is.Assignee.DisplayName
	}
	if to != nil {
		toID, toName = s.userID(*to), to.DisplayName
	}
	if from == toID {
		return nil
	}
	is.Assignee = copyUser(to)
	return []obj{s.item("assignee", from, fromName, toID, toName)}
}

// assignIssue is PUT …/assignee and Actor.Assign.
func (s *Server) assignIssue(actor User, is *issueRec, to *User) {
	items := s.reassign(is, to)
	if len(items) == 0 {
		return
	}
	is.Updated = s.now()
	s.emitLocked(event{name: "jira:issue_updated", typeName: "issue_assigned",
		actor: actor, issue: is, changelog: items})
	s.changedLocked()
}

// transitionIssue moves an issue along the workflow by transition id.
// resolution is what the screen set ("" = the workflow's default, "Done").
func (s *Server) transitionIssue(actor User, is *issueRec, transitionID, resolution string) *Error {
	var to *status
	for i := range statuses {
		if statuses[i].transition == transitionID && statuses[i].name != is.Status {
			to = &statuses[i]
		}
	}
	if to == nil {
		return errMessage(400, fmt.Sprintf("Transition id '%s' is not valid for this issue.", transitionID))
	}
	from := statusNamed(is.Status)
	items := []obj{s.item("status", from.id, from.name, to.id, to.name)}
	is.Status = to.name
	now := s.now()
	switch {
	case to.catKey == "done" && is.Resolution == "":
		res := firstNonEmpty(resolution, "Done")
		is.Resolution, is.resolved = res, now
		items = append(items, s.item("resolution", "", "", firstNonEmpty(resolutionID(res), resolutionDoneID), res))
	case to.catKey != "done" && is.Resolution != "":
		items = append(items, s.item("resolution", firstNonEmpty(resolutionID(is.Resolution), resolutionDoneID), is.Resolution, "", ""))
		is.Resolution, is.resolved = "", time.Time{}
	}
	is.Updated = now
	s.emitLocked(event{name: "jira:issue_updated", typeName: "issue_generic",
		actor: actor, issue: is, changelog: items})
	s.changedLocked()
	return nil
}

// deleteIssue removes an issue; its key is never reused.
func (s *Server) deleteIssue(actor User, is *issueRec) {
	for i, x := range s.issues {
		if x == is {
			s.issues = append(s.issues[:i], s.issues[i+1:]...)
			break
		}
	}
	s.emitLocked(event{name: "jira:issue_deleted", actor: actor, issue: is})
	s.changedLocked()
}

func checkCommentBody(body string) *Error {
	switch {
	case strings.TrimSpace(body) == "":
		return errFields(map[string]string{"comment": "Comment body can not be empty!"})
	case utf16Len(body) > maxText:
		return errFields(map[string]string{"comment": tooLong})
	}
	return nil
}

// addComment adds a comment; Jira fires comment_created and an
// issue_commented jira:issue_updated.
func (s *Server) addComment(actor User, is *issueRec, body string) (*Comment, *Error) {
	return s.addCommentWith(actor, is, body, nil)
}

func (s *Server) addCommentWith(actor User, is *issueRec, body string, set func(*Comment)) (*Comment, *Error) {
	if err := checkCommentBody(body); err != nil {
		return nil, err
	}
	now := s.now()
	is.Comments = append(is.Comments, Comment{ID: s.nextID(&s.seq.comment), Body: body,
		Author: actor, UpdateAuthor: actor, Created: now, Updated: now})
	c := &is.Comments[len(is.Comments)-1]
	if set != nil {
		set(c)
	}
	s.watch(is, actor) // AutoWatchService, as for creation
	is.Updated = now
	s.emitComment(actor, is, c, "comment_created", "issue_commented")
	return c, nil
}

func (s *Server) editComment(actor User, is *issueRec, c *Comment, body string) *Error {
	if err := checkCommentBody(body); err != nil {
		return err
	}
	c.Body, c.UpdateAuthor, c.Updated = body, actor, s.now()
	is.Updated = c.Updated
	s.emitComment(actor, is, c, "comment_updated", "issue_comment_edited")
	return nil
}

func (s *Server) deleteComment(actor User, is *issueRec, i int) {
	c := is.Comments[i]
	is.Comments = append(is.Comments[:i], is.Comments[i+1:]...)
	is.Updated = s.now()
	s.emitComment(actor, is, &c, "comment_deleted", "issue_comment_deleted")
}

func (s *Server) emitComment(actor User, is *issueRec, c *Comment, name, typeName string) {
	cc := *c
	s.emitLocked(event{name: name, actor: actor, issue: is, comment: &cc})
	s.emitLocked(event{name: "jira:issue_updated", typeName: typeName,
		actor: actor, issue: is, comment: &cc})
	s.changedLocked()
}

// addAttachment stores a file; Cloud fires attachment_created, both fire
// a jira:issue_updated with an Attachment changelog.
func (s *Server) addAttachment(actor User, is *issueRec, filename, mimeType string, content []byte) Attachment {
	a := Attachment{ID: s.nextID(&s.seq.attachment), Filename: filename, MimeType: mimeType,
		Size: len(content), Content: append([]byte(nil), content...), Author: actor, Created: s.now()}
	is.Attachments = append(is.Attachments, a)
	is.Updated = a.Created
	if s.cloud {
		s.emitLocked(event{name: "attachment_created", actor: actor, issue: is, attachment: &a})
	}
	s.emitLocked(event{name: "jira:issue_updated", typeName: "issue_updated", actor: actor, issue: is,
		changelog: []obj{s.item("Attachment", "", "", a.ID, a.Filename)}})
	s.changedLocked()
	return a
}
