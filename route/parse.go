package route

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/jtbot/jtbot/storage"
)

// ParseError is one short line saying what is wrong with /subscribe's
// arguments, fit to show the admin as it is.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

func parseErr(format string, args ...any) error {
	return &ParseError{Msg: fmt.Sprintf(format, args...)}
}

// filterNames are the filters in the order help texts list them. Each is
// also accepted in the plural ("labels:"), as people type it.
var filterNames = []string{"events", "type", "priority", "label", "component", "status", "jql"}

var filterAliases = map[string]string{
	"events": "events", "event": "events",
	"type": "type", "types": "type",
	"priority": "priority", "priorities": "priority",
	"label": "label", "labels": "label",
	"component": "component", "components": "component",
	"status": "status", "statuses": "status",
	"jql": "jql",
}

// projectKey is the shape of a Jira project key: a letter, then letters,
// digits or underscores (Jira's default key pattern, widened to digits
// and underscores, which administrators may allow).
var projectKey = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,254}$`)

// Parse reads "PROJECT [filters]", the arguments of /subscribe after any
// target chat. Filters are name:value with comma-separated values, each
// bare or in double quotes (status:"In Progress",Done); jql takes one
// double-quoted query in which \" is a quote. The project comes back
// upper-cased and event names lower-cased; other values stay as typed
// (matching ignores case). Errors are *ParseError.
func Parse(args string) (storage.Subscription, error) {
	sc := &scanner{src: []rune(args)}
	sc.skipSpace()
	first := sc.word()
	project := strings.ToUpper(first)
	switch {
	case project == "":
		return storage.Subscription{}, parseErr("name a project first, e.g. OPS type:Bug")
	case strings.ContainsRune(project, ':'):
		return storage.Subscription{}, parseErr("start with the project key, then the filters, e.g. OPS %s", first)
	case !projectKey.MatchString(project):
		return storage.Subscription{}, parseErr("%q is not a Jira project key (like OPS or WEB2)", project)
	}
	sub := storage.Subscription{Project: project}
	seen := map[string]bool{}
	for sc.skipSpace(); !sc.done(); sc.skipSpace() {
		name, err := sc.filterName()
		if err != nil {
			return storage.Subscription{}, err
		}
		if seen[name] && name == "jql" {
			return storage.Subscription{}, parseErr("jql: given twice; join the queries with AND in one")
		}
		if seen[name] {
			return storage.Subscription{}, parseErr("%s: given twice; put all its values in one, comma-separated", name)
		}
		seen[name] = true
		if err := sc.filter(&sub, name); err != nil {
			return storage.Subscription{}, err
		}
	}
	return sub, nil
}

// scanner walks the arguments rune by rune.
type scanner struct {
	src []rune
	i   int
}

func (s *scanner) done() bool { return s.i >= len(s.src) }

func (s *scanner) atSpace() bool { return !s.done() && unicode.IsSpace(s.src[s.i]) }

func (s *scanner) skipSpace() {
	for s.atSpace() {
		s.i++
	}
}

// word reads up to the next space.
func (s *scanner) word() string {
	start := s.i
	for !s.done() && !s.atSpace() {
		s.i++
	}
	return string(s.src[start:s.i])
}

// filterName reads "name:" and returns the filter's canonical name.
func (s *scanner) filterName() (string, error) {
	start := s.i
	for !s.done() && !s.atSpace() && s.src[s.i] != ':' {
		s.i++
	}
	typed := string(s.src[start:s.i])
	if s.done() || s.src[s.i] != ':' {
		return "", parseErr("%q is not a filter: write name:value, with name one of %s", typed, strings.Join(filterNames, ", "))
	}
	s.i++ // the colon
	name, ok := filterAliases[strings.ToLower(typed)]
	if !ok {
		return "", parseErr("unknown filter %q: use %s", typed, strings.Join(filterNames, ", "))
	}
	return name, nil
}

// filter reads the value(s) of the filter name into sub.
func (s *scanner) filter(sub *storage.Subscription, name string) error {
	if name == "jql" {
		jql, err := s.jql()
		sub.JQL = jql
		return err
	}
	values, err := s.values(name)
	if err != nil {
		return err
	}
	switch name {
	case "events":
		return setEvents(sub, values)
	case "type":
		sub.Types = values
	case "priority":
		sub.Priorities = values
	case "label":
		sub.Labels = values
	case "component":
		sub.Components = values
	case "status":
		sub.Statuses = values
	}
	return nil
}

func setEvents(sub *storage.Subscription, values []string) error {
	for i, v := range values {
		v = strings.ToLower(v)
		if kindOf(v) == 0 {
			return parseErr("unknown event %q: use %s", values[i], strings.Join(EventNames(), ", "))
		}
		values[i] = v
	}
	sub.Events = dedupe(values)
	return nil
}

// values reads a comma-separated list up to the next space outside quotes.
func (s *scanner) values(name string) ([]string, error) {
	var out []string
	for {
		v, err := s.value(name)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(v) == "" {
			return nil, parseErr("%s: empty value; e.g. %s", name, example(name))
		}
		out = append(out, v)
		if s.done() || s.src[s.i] != ',' {
			break
		}
		s.i++
	}
	if !s.done() && !s.atSpace() {
		return nil, parseErr("%s: put a space or a comma after a closing quote", name)
	}
	return dedupe(out), nil
}

// value reads one value: quoted, or bare up to a comma or a space.
func (s *scanner) value(name string) (string, error) {
	if !s.done() && isOpenQuote(s.src[s.i]) {
		v, ok := s.quoted()
		if !ok {
			return "", parseErr("%s: a quote is not closed", name)
		}
		return v, nil
	}
	start := s.i
	for !s.done() && !s.atSpace() && s.src[s.i] != ',' {
		if isOpenQuote(s.src[s.i]) {
			return "", parseErr(`%s: quote a whole value, e.g. status:"In Progress"`, name)
		}
		s.i++
	}
	return string(s.src[start:s.i]), nil
}

// jql reads jql:"…", which must be quoted: a query has spaces.
func (s *scanner) jql() (string, error) {
	if s.done() || !isOpenQuote(s.src[s.i]) {
		return "", parseErr(`jql: put the query in double quotes, e.g. jql:"labels = release"`)
	}
	q, ok := s.quoted()
	switch {
	case !ok:
		return "", parseErr(`jql: the query's closing quote is missing (write \" for a quote inside it)`)
	case strings.TrimSpace(q) == "":
		return "", parseErr(`jql: empty query; e.g. jql:"labels = release"`)
	case !s.done() && !s.atSpace():
		return "", parseErr(`jql: put a space after the closing quote (write \" for a quote inside the query)`)
	}
	return strings.TrimSpace(q), nil
}

// quoted reads a double-quoted string at s.i, where \" and \\ stand for
// themselves; ok is false when it does not end.
func (s *scanner) quoted() (string, bool) {
	var b strings.Builder
	for s.i++; !s.done(); s.i++ {
		r := s.src[s.i]
		switch {
		case r == '\\' && s.i+1 < len(s.src) && (s.src[s.i+1] == '"' || s.src[s.i+1] == '\\'):
			s.i++
			b.WriteRune(s.src[s.i])
		case isCloseQuote(r):
			s.i++
			return b.String(), true
		default:
			b.WriteRune(r)
		}
	}
	return "", false
}

// Phones turn " into typographic quotes as people type: take those too.
func isOpenQuote(r rune) bool  { return r == '"' || r == '“' || r == '„' }
func isCloseQuote(r rune) bool { return r == '"' || r == '”' || r == '“' }

func example(name string) string {
	return map[string]string{
		"events": "events:status,comment", "type": "type:Bug,Story", "priority": "priority:High,Highest",
		"label": "label:release", "component": "component:API", "status": `status:"In Progress",Done`,
	}[name]
}

// dedupe drops values repeated in another case, keeping the first.
func dedupe(values []string) []string {
	out := values[:0]
	for _, v := range values {
		if !containsFold(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
