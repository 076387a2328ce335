package route

import (
	"slices"
	"sort"
	"strings"

	"github.com/jtbot/jtbot/storage"
)

// Index holds every subscription ready for matching: grouped by project,
// filter values lower-cased once, each project's rules sorted by chat and
// topic so that one pass yields one delivery per chat and topic. It is
// read-only once built: rebuild it when subscriptions change.
type Index struct {
	byProject map[string][]rule
	// fields are, per project, the fields its subscriptions filter on.
	fields map[string]field
	// groups count, per project, its chats and topics: the most
	// deliveries one event can make, so Match allocates once.
	groups map[string]int
}

// rule is a subscription as matching sees it. nil value lists match any.
type rule struct {
	id     uint64
	chat   int64
	thread int
	kinds  Kinds // 0: every kind
	types, priorities, statuses,
	labels, components []string
	jql string
}

// NewIndex builds the index of subs.
func NewIndex(subs []storage.Subscription) *Index {
	ix := &Index{byProject: map[string][]rule{}, fields: map[string]field{}, groups: map[string]int{}}
	for _, s := range subs {
		p := strings.ToUpper(s.Project)
		r := rule{id: s.ID, chat: s.Chat, thread: s.Thread, kinds: KindsOf(s.Events),
			types: lowerAll(s.Types), priorities: lowerAll(s.Priorities), statuses: lowerAll(s.Statuses),
			labels: lowerAll(s.Labels), components: lowerAll(s.Components), jql: s.JQL}
		ix.byProject[p] = append(ix.byProject[p], r)
		ix.fields[p] |= r.fields()
	}
	for p, rules := range ix.byProject {
		sort.Slice(rules, func(i, j int) bool {
			a, b := rules[i], rules[j]
			if a.chat != b.chat {
				return a.chat < b.chat
			}
			if a.thread != b.thread {
				return a.thread < b.thread
			}
			return a.id < b.id
		})
		for i := range rules {
			if i == 0 || !rules[i].sameTarget(&rules[i-1]) {
				ix.groups[p]++
			}
		}
	}
	return ix
}

func (r *rule) sameTarget(o *rule) bool { return r.chat == o.chat && r.thread == o.thread }

// fields are the fields the rule filters on.
func (r *rule) fields() field {
	var fs field
	for _, f := range []struct {
		f      field
		values []string
	}{
		{fieldType, r.types}, {fieldPriority, r.priorities}, {fieldStatus, r.statuses},
		{fieldLabels, r.labels}, {fieldComponents, r.components},
	} {
		if f.values != nil {
			fs |= f.f
		}
	}
	return fs
}

// Projects lists the projects subscribed to, sorted: the webhook's JQL
// filter must cover them.
func (ix *Index) Projects() []string {
	out := make([]string, 0, len(ix.byProject))
	for p := range ix.byProject {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// NeedsIssue reports whether routing f must read the issue first
// (Facts.Fill): the payload lacks its project, or a field one of the
// project's subscriptions filters on.
func (ix *Index) NeedsIssue(f Facts) bool {
	if f.missing&fieldProject != 0 {
		return len(ix.byProject) > 0
	}
	return ix.fields[f.Project]&f.missing != 0
}

// Match is one delivery: a chat, or one forum topic of it, and its
// subscriptions that matched the event's fields.
type Match struct {
	Chat   int64
	Thread int
	// Subscriptions are the IDs of the subscriptions that matched, sorted.
	Subscriptions []uint64
	// Always: one of them has no JQL, so the delivery is due without
	// asking Jira. Otherwise it is due when any of JQLs (distinct) holds
	// for the issue (JQLCache.Due).
	Always bool
	JQLs   []string
}

// Match returns the deliveries due for f, one per chat and topic, in chat
// order. A filter on a field f does not know never matches: check
// NeedsIssue first.
func (ix *Index) Match(f Facts) []Match {
	if f.Kinds == 0 {
		return nil
	}
	rules := ix.byProject[f.Project]
	var out []Match
	// ids and jqls back every Match's slices; their capacity never has to
	// grow, so the slices handed out stay valid.
	var ids []uint64
	var jqls []string
	for i := 0; i < len(rules); {
		j := i + 1
		for j < len(rules) && rules[j].sameTarget(&rules[i]) {
			j++
		}
		if m, ok := matchGroup(rules[i:j], &f, &ids, &jqls, len(rules)); ok {
			if out == nil {
				out = make([]Match, 0, ix.groups[f.Project])
			}
			out = append(out, m)
		}
		i = j
	}
	return out
}

// matchGroup matches the rules of one chat and topic.
func matchGroup(group []rule, f *Facts, ids *[]uint64, jqls *[]string, capacity int) (Match, bool) {
	idStart, jqlStart := len(*ids), len(*jqls)
	m := Match{Chat: group[0].chat, Thread: group[0].thread}
	for k := range group {
		r := &group[k]
		if !r.matches(f) {
			continue
		}
		if *ids == nil {
			*ids = make([]uint64, 0, capacity)
		}
		*ids = append(*ids, r.id)
		switch {
		case r.jql == "":
			m.Always = true
		case !m.Always && !slices.Contains((*jqls)[jqlStart:], r.jql):
			if *jqls == nil {
				*jqls = make([]string, 0, capacity)
			}
			*jqls = append(*jqls, r.jql)
		}
	}
	if len(*ids) == idStart {
		return Match{}, false
	}
	m.Subscriptions = (*ids)[idStart:len(*ids):len(*ids)]
	if m.Always {
		*jqls = (*jqls)[:jqlStart] // nothing to ask Jira
	} else {
		m.JQLs = (*jqls)[jqlStart:len(*jqls):len(*jqls)]
	}
	return m, true
}

// matches applies the rule's event and field filters (not its JQL).
func (r *rule) matches(f *Facts) bool {
	if r.kinds != 0 && r.kinds&f.Kinds == 0 {
		return false
	}
	return oneOf(r.types, f.Type, f.missing&fieldType) &&
		oneOf(r.priorities, f.Priority, f.missing&fieldPriority) &&
		oneOf(r.statuses, f.Status, f.missing&fieldStatus) &&
		anyOf(r.labels, f.Labels, f.missing&fieldLabels) &&
		anyOf(r.components, f.Components, f.missing&fieldComponents)
}

// oneOf: no filter, or the known value is one of want.
func oneOf(want []string, have string, missing field) bool {
	if want == nil {
		return true
	}
	return missing == 0 && slices.Contains(want, have)
}

// anyOf: no filter, or one of the known values is one of want.
func anyOf(want, have []string, missing field) bool {
	if want == nil {
		return true
	}
	if missing != 0 {
		return false
	}
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}
