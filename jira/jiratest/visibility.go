package jiratest

import "strings"

// This file holds who may read a restricted comment. Jira shows a comment
// restricted to a group or a project role only to that group's members or
// the role's holders; to anyone else it does not exist: "Get comment"
// answers "404 Returned if the issue or comment is not found or the user
// does not have permission to view the issue or comment", and lists leave
// it out (Jira Cloud platform REST API v2, Issue comments: Get comment,
// Get comments — "If the comment has visibility restrictions, the user
// belongs to the group or has the role visibility is restricted to").
//
// A Jira Service Management internal note (jsdPublic false) is for the
// project's agents: "customers can only view public comments ... whereas
// agents can see both internal and public comments" (Service Management
// REST API, Get request comment by id). Agents are the holders of the
// project role JSM creates for them, ServiceDeskTeam; the fake applies
// that rule on both deployments.
//
// The API user (Options.Me) belongs to every group and holds every role
// until a test says otherwise (RemoveFromGroup, RemoveFromRole), so that
// the bot's own view stays what it was before memberships existed.

// ServiceDeskTeam is the project role of a Service Management project's
// agents: the people who may read its internal notes.
const ServiceDeskTeam = "Service Desk Team"

// AddToGroup makes u a member of group (names are case-insensitive, as
// Jira's are).
func (s *Server) AddToGroup(u User, group string) { s.setMember(u, groupMembership(group), true) }

// RemoveFromGroup takes u out of group.
func (s *Server) RemoveFromGroup(u User, group string) { s.setMember(u, groupMembership(group), false) }

// AddToRole gives u the project role role in project (AddToRole(u, "SD",
// ServiceDeskTeam) makes u an agent of SD).
func (s *Server) AddToRole(u User, project, role string) {
	s.setMember(u, roleMembership(project, role), true)
}

// RemoveFromRole takes the project role away from u.
func (s *Server) RemoveFromRole(u User, project, role string) {
	s.setMember(u, roleMembership(project, role), false)
}

func groupMembership(group string) string { return "group:" + strings.ToLower(group) }

func roleMembership(project, role string) string {
	return "role:" + strings.ToUpper(project) + ":" + strings.ToLower(role)
}

func (s *Server) setMember(u User, what string, in bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.userID(normalizeUser(u))
	if s.members[id] == nil {
		s.members[id] = map[string]bool{}
	}
	s.members[id][what] = in
	s.changedLocked()
}

// member reports whether the user with id belongs to what; Me does unless
// a test took it out.
func (s *Server) member(id, what string) bool {
	if in, set := s.members[id][what]; set {
		return in
	}
	return id != "" && id == s.userID(s.opts.Me)
}

// readsComment reports whether the user with id may read c on is.
func (s *Server) readsComment(id string, is *issueRec, c *Comment) bool {
	if c.Internal && !s.member(id, roleMembership(is.Project, ServiceDeskTeam)) {
		return false
	}
	if c.Visibility == nil {
		return true
	}
	switch strings.ToLower(c.Visibility.Type) {
	case "group":
		return s.member(id, groupMembership(c.Visibility.Value))
	case "role":
		return s.member(id, roleMembership(is.Project, c.Visibility.Value))
	}
	return false
}
