package jiratest

import (
	"strings"
)

// SeedIssue puts in an issue with the exact key and id that a recorded
// webhook payload names (its project is added when missing), without
// firing any webhook: tests that replay real payloads need Jira to know
// the issue when jtbot reads it back. securityLevel "" means none.
func (s *Server) SeedIssue(key, id, summary, securityLevel string) Issue {
	project, _, _ := strings.Cut(key, "-")
	s.AddProject(project, project)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	is := &issueRec{project: s.project(project), Issue: Issue{
		ID: id, Key: key, Project: project, Type: "Task", Summary: summary,
		Status: statuses[0].name, Created: now, Updated: now, Security: securityLevel,
	}}
	s.issues = append(s.issues, is)
	s.changedLocked()
	return is.Issue
}

// SetProjectType sets a project's projectTypeKey, e.g. "service_desk" for
// a Jira Service Management project ("software" by default).
func (s *Server) SetProjectType(key, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.project(key); p != nil {
		p.Type = typ
	}
	s.changedLocked()
}
