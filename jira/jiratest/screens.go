package jiratest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Transition screens. Real workflows put a screen on transitions such as
// "Done" or "Resolve issue" whose fields may be required: GET
// …/transitions?expand=transitions.fields lists them per transition
// (FieldMetadata: required, schema, name, key, operations, allowedValues;
// https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-transitions-get),
// and a POST without one is refused with
// {"errorMessages":[],"errors":{"resolution":"Resolution is required."}}
// (a real answer quoted in https://gitlab.com/gitlab-org/gitlab/-/issues/26230).

// TransitionField is a field on a transition's screen.
type TransitionField struct {
	// ID is the field id ("resolution", "customfield_10050"); Name what
	// Jira shows ("Resolution", "Root cause").
	ID, Name string
	// Allowed are the values it takes, by name; empty = free text.
	Allowed []string
	// Required makes Jira refuse the transition without it.
	Required bool
}

// Resolutions are the resolutions of the fake site, as a new Jira Cloud
// site has them.
var Resolutions = []string{"Done", "Won't Do", "Duplicate", "Fixed", "Cannot Reproduce"}

// ResolutionField is the system resolution field, required, with the
// allowed values Fixed, Won't Do and Duplicate (a typical "Resolve" screen).
func ResolutionField() TransitionField {
	return TransitionField{ID: "resolution", Name: "Resolution", Allowed: []string{"Fixed", "Won't Do", "Duplicate"}, Required: true}
}

// RequireOnTransition puts fields on the screen of the transition to
// toStatus ("Done", "In Progress", "To Do"). Without it transitions have no
// screen, and reaching Done sets the resolution "Done" as a workflow post
// function does.
func (s *Server) RequireOnTransition(toStatus string, fields ...TransitionField) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := statusNamed(toStatus)
	if st == nil {
		panic(fmt.Sprintf("jiratest: no status %q", toStatus))
	}
	if s.screens == nil {
		s.screens = map[string][]TransitionField{}
	}
	s.screens[st.transition] = append(s.screens[st.transition], fields...)
}

func resolutionID(name string) string {
	for i, r := range Resolutions {
		if strings.EqualFold(r, name) {
			return fmt.Sprint(10000 + i)
		}
	}
	return ""
}

func (s *Server) fieldMetaJSON(f TransitionField) obj {
	o := obj{"required": f.Required, "name": f.Name, "key": f.ID, "hasDefaultValue": false, "operations": []string{"set"}}
	if f.ID == "resolution" {
		o["schema"] = obj{"type": "resolution", "system": "resolution"}
	} else {
		o["fieldId"] = f.ID
		o["schema"] = obj{"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select", "customId": strings.TrimPrefix(f.ID, "customfield_")}
	}
	if len(f.Allowed) > 0 {
		vals := []any{}
		for i, v := range f.Allowed {
			if f.ID == "resolution" {
				id := resolutionID(v)
				vals = append(vals, obj{"self": s.api("resolution/" + id), "id": id, "name": v})
			} else {
				id := fmt.Sprint(10100 + i)
				vals = append(vals, obj{"self": s.api("customFieldOption/" + id), "id": id, "value": v})
			}
		}
		o["allowedValues"] = vals
	}
	return o
}

// screenValues takes the screen's fields out of a transition's "fields"
// and checks them; what is left is an ordinary edit. resolution is the
// chosen resolution's name ("" = none given).
func (s *Server) screenValues(transitionID string, fields map[string]json.RawMessage) (resolution string, custom map[string]string, err *Error) {
	errs := map[string]string{}
	custom = map[string]string{}
	for _, f := range s.screens[transitionID] {
		raw, given := fields[f.ID]
		delete(fields, f.ID)
		v := ""
		if given {
			v = refString(raw, "name", "value", "id")
			if v == "" {
				_ = json.Unmarshal(raw, &v)
			}
		}
		switch {
		case v == "" && f.Required:
			errs[f.ID] = f.Name + " is required."
			continue
		case v == "":
			continue
		case len(f.Allowed) > 0 && !allowed(f, v):
			errs[f.ID] = fmt.Sprintf("Specify a valid value for %s", f.Name)
			continue
		}
		if f.ID == "resolution" {
			resolution = canonical(f.Allowed, v)
		} else {
			custom[f.ID] = canonical(f.Allowed, v)
		}
	}
	if len(errs) > 0 {
		return "", nil, errFields(errs)
	}
	return resolution, custom, nil
}

func allowed(f TransitionField, v string) bool {
	for i, a := range f.Allowed {
		if strings.EqualFold(a, v) || (f.ID == "resolution" && resolutionID(a) == v) || (f.ID != "resolution" && fmt.Sprint(10100+i) == v) {
			return true
		}
	}
	return false
}

// canonical turns an id or any-case name into the allowed name.
func canonical(list []string, v string) string {
	for i, a := range list {
		if strings.EqualFold(a, v) || resolutionID(a) == v || fmt.Sprint(10100+i) == v {
			return a
		}
	}
	return v
}
