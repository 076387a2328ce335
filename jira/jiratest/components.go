package jiratest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Components belong to a project: an administrator creates them
// (AddComponent), then issues of that project name them. An issue stores
// its components' names.

type component struct{ ID, Name string }

// AddComponent creates a component in a project, as a project
// administrator would. Adding an existing name changes nothing.
func (s *Server) AddComponent(projectKey, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(projectKey)
	if p == nil || p.component(name) != nil {
		return
	}
	p.components = append(p.components, component{ID: s.nextID(&s.seq.component), Name: name})
	s.changedLocked()
}

// component finds one of the project's components by name (any case) or id.
func (p *project) component(nameOrID string) *component {
	for i, c := range p.components {
		if strings.EqualFold(c.Name, nameOrID) || c.ID == nameOrID {
			return &p.components[i]
		}
	}
	return nil
}

// componentsField reads "components": [{"name":…}|{"id":…}] for an issue
// of p. An unknown one gets Jira's complaint, as quoted in
// https://help.k15t.com/backbone-work-sync/5.21/server/component-s-not-valid
// ("components":"Component name 'C4' is not valid").
func componentsField(raw json.RawMessage, p *project) ([]string, string) {
	var refs []map[string]any
	if json.Unmarshal(raw, &refs) != nil {
		return nil, "data was not an array"
	}
	names := []string{}
	for _, r := range refs {
		ref := refString(mustJSON(r), "name", "id")
		c := p.component(ref)
		if c == nil {
			if _, byID := r["id"]; byID {
				return nil, fmt.Sprintf("Component id '%s' is not valid", ref)
			}
			return nil, fmt.Sprintf("Component name '%s' is not valid", ref)
		}
		names = append(names, c.Name)
	}
	return names, ""
}

// componentsJSON renders an issue's components as issue fields carry them.
func (s *Server) componentsJSON(is *issueRec) []any {
	out := []any{}
	for _, name := range is.Components {
		if c := is.project.component(name); c != nil {
			out = append(out, obj{"self": s.api("component/" + c.ID), "id": c.ID, "name": c.Name})
		}
	}
	return out
}

// componentChanges are the changelog items of a new component list: Jira
// writes one "Component" item per component removed or added.
func (s *Server) componentChanges(is *issueRec, to []string) []obj {
	var items []obj
	for _, name := range is.Components {
		if !containsFold(to, name) {
			c := is.project.component(name)
			items = append(items, s.item("Component", c.ID, c.Name, "", ""))
		}
	}
	for _, name := range to {
		if !containsFold(is.Components, name) {
			c := is.project.component(name)
			items = append(items, s.item("Component", "", "", c.ID, c.Name))
		}
	}
	return items
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// anyComponent is the component of any project named (or with the id) t:
// JQL's component clause accepts a name any project has.
func (s *Server) anyComponent(t string) *component {
	for _, p := range s.projects {
		if c := p.component(t); c != nil {
			return c
		}
	}
	return nil
}
