package route

import (
	"strings"

	"github.com/jtbot/jtbot/storage"
)

// Describe says a subscription in words, for /subscribe's answer and the
// /subscriptions list: "OPS · type Bug · priority Highest · status changes
// and comments → this topic". target is where deliveries go, as the caller
// names it ("this chat", "this topic", "@channel").
func Describe(s storage.Subscription, target string) string {
	parts := []string{s.Project}
	for _, f := range []struct {
		name   string
		values []string
	}{
		{"type", s.Types}, {"priority", s.Priorities}, {"status", s.Statuses},
		{"label", s.Labels}, {"component", s.Components},
	} {
		if len(f.values) > 0 {
			parts = append(parts, f.name+" "+orList(f.values))
		}
	}
	if s.JQL != "" {
		parts = append(parts, "JQL "+s.JQL)
	}
	parts = append(parts, eventsPhrase(KindsOf(s.Events)))
	out := strings.Join(parts, " · ")
	if target != "" {
		out += " → " + target
	}
	return out
}

// eventsPhrase is "status changes and comments"; no filter is every event.
func eventsPhrase(ks Kinds) string {
	var phrases []string
	for _, k := range kindNames {
		if ks&k.kind != 0 {
			phrases = append(phrases, k.phrase)
		}
	}
	if len(phrases) == 0 {
		return "every event"
	}
	return joinList(phrases, "and")
}

// orList is "Bug", "Bug or Story", "Bug, Story or Task".
func orList(values []string) string { return joinList(values, "or") }

func joinList(items []string, conj string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}
