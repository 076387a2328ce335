package jira

import (
	"bytes"
	"encoding/json"
)

// List is an issue field holding several names: labels (strings) or
// components (objects with a "name"). Known tells a field that was in the
// payload, even empty, from one that was not: Cloud's comment events carry
// a brief issue without labels or components, and routing by them must
// then read the issue (see the fixtures).
type List struct {
	Names []string
	Known bool
}

// UnmarshalJSON implements json.Unmarshaler. It never fails: a field of an
// unexpected shape is left unknown rather than rejecting the whole event.
func (l *List) UnmarshalJSON(b []byte) error {
	*l = List{}
	if bytes.Equal(b, []byte("null")) {
		l.Known = true
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(b, &items) != nil {
		return nil
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		var s Text
		if json.Unmarshal(it, &s) == nil {
			names = append(names, string(s))
			continue
		}
		var n Named
		if json.Unmarshal(it, &n) != nil {
			return nil
		}
		if n.Name != "" {
			names = append(names, string(n.Name))
		}
	}
	l.Names, l.Known = names, true
	return nil
}
