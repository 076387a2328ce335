package route

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
)

// benchFixture is a real status change of TES-41 (Cloud).
const benchFixture = "cloud-issue-updated-status-in-progress.json"

// benchSubs are 1,000 subscriptions over 50 projects (TES, the fixture's,
// and P01…P49), 20 each, spread over 200 chats and their topics, with the
// filters mixed the way people would mix them.
func benchSubs() []storage.Subscription {
	var subs []storage.Subscription
	for p := range 50 {
		project := fmt.Sprintf("P%02d", p)
		if p == 0 {
			project = "TES"
		}
		for i := range 20 {
			s := storage.Subscription{ID: uint64(len(subs) + 1), Chat: -int64(1000 + len(subs)%200), Thread: i % 3, Project: project}
			switch i % 5 {
			case 1:
				s.Types, s.Priorities = []string{"Bug", "Story"}, []string{"High", "Highest"}
			case 2:
				s.Events, s.Statuses = []string{"status", "comment"}, []string{"In Progress", "Done"}
			case 3:
				s.Labels, s.Components = []string{"release", "test-label"}, []string{"COMP-1"}
			case 4:
				s.JQL = fmt.Sprintf("labels = team%d", i)
			}
			subs = append(subs, s)
		}
	}
	return subs
}

// BenchmarkMatch1000 is routing one event's facts over 1,000
// subscriptions: the work subscriptions add to each event, beside
// BenchmarkParseEvent.
func BenchmarkMatch1000(b *testing.B) {
	ix := NewIndex(benchSubs())
	f := FactsOf(fixture(b, benchFixture))
	if len(ix.Match(f)) == 0 {
		b.Fatal("nothing matched: the benchmark measures nothing")
	}
	b.ReportAllocs()
	for b.Loop() {
		ix.Match(f)
	}
}

// BenchmarkRoute1000 is the whole of routing a parsed event: its facts,
// then the match.
func BenchmarkRoute1000(b *testing.B) {
	ix := NewIndex(benchSubs())
	ev := fixture(b, benchFixture)
	b.ReportAllocs()
	for b.Loop() {
		ix.Match(FactsOf(ev))
	}
}

// BenchmarkParseEvent is the baseline: what one event costs today before
// any routing, decoding the webhook body (jira.ParseEvent, as the worker
// does for every queued event).
func BenchmarkParseEvent(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "jira", "testdata", "fixtures", benchFixture))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jira.ParseEvent(body); err != nil {
			b.Fatal(err)
		}
	}
}
