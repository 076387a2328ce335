package bot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jtbot/jtbot/jira"
)

// BenchmarkFormatMessage builds one notification from real payloads: the
// header, a status change and a comment converted from wiki markup.
func BenchmarkFormatMessage(b *testing.B) {
	read := func(name string) *jira.Event {
		data, err := os.ReadFile(filepath.Join("..", "jira", "testdata", "fixtures", name))
		if err != nil {
			b.Fatal(err)
		}
		ev, err := jira.ParseEvent(data)
		if err != nil {
			b.Fatal(err)
		}
		return ev
	}
	update, comment := read("cloud-issue-updated-status-in-progress.json"), read("cloud-comment-created.json")
	f := update.Issue.Fields
	noLink := func(id, name string) string { return "" }
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		header := issueHeader("https://jira.example.com/browse/"+string(update.Issue.Key), string(update.Issue.Key), string(f.IssueType.Name), string(f.Summary))
		lines := changeLines(update.Changelog.Items, noLink)
		lines = append(lines, commentText(comment.Comment.Author.Display(), string(comment.Comment.Body), false, nil))
		if composeMessage(header, lines, "https://jira.example.com/browse/KEY") == "" {
			b.Fatal("empty message")
		}
	}
}
