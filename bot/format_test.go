package bot

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// mustParse checks html the way Telegram does and returns its plain text.
func mustParse(t *testing.T, html string) string {
	t.Helper()
	plain, err := telegramtest.ParseHTML(html)
	if err != nil {
		t.Fatalf("Telegram would refuse %q: %v", html, err)
	}
	if n := len(utf16.Encode([]rune(plain))); n > maxMessage {
		t.Fatalf("message has %d characters, more than %d", n, maxMessage)
	}
	return plain
}

func testAttachmentURL(id, name string) string {
	if id == "" {
		return ""
	}
	return "https://jira.example.com/secure/attachment/" + id + "/" + name
}

func testNames(id string) string {
	return map[string]string{"acc-jane": "Jane Jira", "bob": "Bob Builder"}[id]
}

func TestFormat(t *testing.T) {
	item := func(field, from, to string) jira.ChangeItem {
		return jira.ChangeItem{Field: jira.Text(field), FromString: jira.Text(from), ToString: jira.Text(to)}
	}
	tests := []struct {
		name      string
		html      string
		wantPlain []string // substrings of the text users read
		wantHTML  []string // substrings of the markup
	}{
		{
			name:      "header of a bug links its key",
			html:      issueHeader("https://jira.example.com/browse/OPS-1", "OPS-1", "Bug", "Disk <full> & slow"),
			wantPlain: []string{"🐞 OPS-1 Disk <full> & slow"},
			wantHTML:  []string{`<a href="https://jira.example.com/browse/OPS-1"><b>OPS-1</b></a>`},
		},
		{
			name:      "header of an unknown type without summary",
			html:      issueHeader("https://j/browse/X-2", "X-2", "Widget", ""),
			wantPlain: []string{"📌 X-2"},
		},
		{
			name:      "status",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("status", "To Do", "In Progress")}, testAttachmentURL), "\n"),
			wantPlain: []string{"To Do → In Progress"},
			wantHTML:  []string{"<b>In Progress</b>"},
		},
		{
			name:      "Data Center spells the status field with a capital",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("Status", "Open", "Closed")}, testAttachmentURL), "\n"),
			wantPlain: []string{"Open → Closed"},
		},
		{
			name:      "assigned",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("assignee", "", "Jane <J>")}, testAttachmentURL), "\n"),
			wantPlain: []string{"assigned to Jane <J>"},
		},
		{
			name:      "unassigned",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("assignee", "Jane", "")}, testAttachmentURL), "\n"),
			wantPlain: []string{"unassigned"},
		},
		{
			name:      "priority",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("priority", "Medium", "High")}, testAttachmentURL), "\n"),
			wantPlain: []string{"priority Medium → High"},
		},
		{
			name:      "resolved",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("resolution", "", "Done")}, testAttachmentURL), "\n"),
			wantPlain: []string{"resolved: Done"},
		},
		{
			name:      "reopened",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("resolution", "Done", "")}, testAttachmentURL), "\n"),
			wantPlain: []string{"reopened (was Done)"},
		},
		{
			name:      "summary",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("summary", "old", "new")}, testAttachmentURL), "\n"),
			wantPlain: []string{"summary: old → new"},
		},
		{
			name:      "due date, Data Center format",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("duedate", "", "2024-05-01 00:00:00.0")}, testAttachmentURL), "\n"),
			wantPlain: []string{"due 2024-05-01"},
		},
		{
			name:      "due date removed",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("duedate", "2024-05-01", "")}, testAttachmentURL), "\n"),
			wantPlain: []string{"due date removed"},
		},
		{
			name:      "other fields on one line",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("description", "a", "b"), item("labels", "", "x"), item("description", "b", "c")}, testAttachmentURL), "\n"),
			wantPlain: []string{"also changed: description, labels"},
		},
		{
			name:      "attachment added, by id",
			html:      strings.Join(changeLines([]jira.ChangeItem{{Field: "Attachment", To: "10001", ToString: "log & trace.txt"}}, testAttachmentURL), "\n"),
			wantPlain: []string{"📎 log & trace.txt"},
			wantHTML:  []string{`href="https://jira.example.com/secure/attachment/10001/log &amp; trace.txt"`},
		},
		{
			name:      "attachments listed on both sides",
			html:      strings.Join(changeLines([]jira.ChangeItem{item("Attachment", "test.json test.xml", "test.gif test.xml")}, testAttachmentURL), "\n"),
			wantPlain: []string{"📎 test.gif", "removed test.json"},
		},
		{
			name:      "attachment_created",
			html:      attachmentLine(&jira.Attachment{Filename: "screen.png", Size: 12345, Content: "https://jira.example.com/secure/attachment/1/screen.png"}),
			wantPlain: []string{"📎 screen.png (12.1 KB)"},
			wantHTML:  []string{`<a href="https://jira.example.com/secure/attachment/1/screen.png">screen.png</a>`},
		},
		{
			name:      "attachment without a web address",
			html:      attachmentLine(&jira.Attachment{Filename: "a<b>.zip", Size: 3 << 20, Content: "javascript:alert(1)"}),
			wantPlain: []string{"📎 a<b>.zip (3.0 MB)"},
		},
		{
			name: "created",
			html: strings.Join(createdLines(jira.IssueFields{
				Status:   &jira.Named{Name: "To Do"},
				Priority: &jira.Named{Name: "High"},
				Assignee: &jira.User{DisplayName: "Jane Jira"},
			}, "Bob", "Servers are *down*, ask [~accountid:acc-jane]", testNames), "\n"),
			wantPlain: []string{"created by Bob", "To Do · ⚡ High · 👤 Jane Jira", "Servers are down, ask @Jane Jira"},
			wantHTML:  []string{"<b>down</b>"},
		},
		{
			name:      "comment with wiki markup and mentions",
			html:      commentText("Jane <Jira>", "{{code}} and _it_ for [~bob] and [~nobody]\n* one\n* two", false, testNames),
			wantPlain: []string{"💬 Jane <Jira>:", "@Bob Builder", "@nobody", "one"},
			wantHTML:  []string{"<code>code</code>", "<i>it</i>"},
		},
		{
			name:      "edited comment",
			html:      commentText("Jane", "new text", true, nil),
			wantPlain: []string{"Jane (edited):\nnew text"},
		},
		{
			name:      "comment code block",
			html:      commentText("", "{code:go}\nif a < b && c {}\n{code}", false, nil),
			wantPlain: []string{"someone:", "if a < b && c {}"},
			wantHTML:  []string{"<pre>"},
		},
		{
			name:      "comment deleted",
			html:      commentDeletedText("Jane"),
			wantPlain: []string{"comment by Jane deleted"},
		},
		{
			name:      "issue deleted",
			html:      deletedLine("Robert-John"),
			wantPlain: []string{"issue deleted by Robert-John"},
		},
		{
			name:      "message within the limit is kept whole",
			html:      composeMessage("H", []string{"a", "b"}, "https://j/browse/X-1"),
			wantPlain: []string{"H\na\nb"},
		},
		{
			name:      "long message is cut with a link",
			html:      composeMessage(issueHeader("https://j/browse/X-1", "X-1", "Task", "s"), []string{commentText("Jane", strings.Repeat("*word* ", 2000), false, nil)}, "https://j/browse/X-1"),
			wantPlain: []string{"…\nread the rest in Jira"},
			wantHTML:  []string{`<a href="https://j/browse/X-1">read the rest in Jira</a>`},
		},
		{
			name:      "long message of emoji counts UTF-16 units",
			html:      composeMessage("H", []string{strings.Repeat("😀", 3000)}, "https://j"),
			wantPlain: []string{"…\nread the rest in Jira"},
		},
		{
			name:      "digest of a bulk edit",
			html:      digestMessage("OPS", digestEntries(200), "https://j/browse/OPS"),
			wantPlain: []string{"📋 200 issues changed in OPS", "• OPS-1 Issue <1>: 🔄 To Do → Done", "…\nread the rest in Jira"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := mustParse(t, tt.html)
			for _, w := range tt.wantPlain {
				if !strings.Contains(plain, w) {
					t.Errorf("text %q\nlacks %q", plain, w)
				}
			}
			for _, w := range tt.wantHTML {
				if !strings.Contains(tt.html, w) {
					t.Errorf("html %q\nlacks %q", tt.html, w)
				}
			}
		})
	}
}

func digestEntries(n int) []digestEntry {
	var out []digestEntry
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("OPS-%d", i)
		out = append(out, digestEntry{browseURL: "https://j/browse/" + key, key: key, summary: fmt.Sprintf("Issue <%d>", i),
			what: changeLines([]jira.ChangeItem{{Field: "status", FromString: "To Do", ToString: "Done"}}, testAttachmentURL)})
	}
	return out
}

func TestAttachmentDiff(t *testing.T) {
	tests := []struct {
		name           string
		from, to       string
		added, removed string
	}{
		{"added", "", "a.png", "a.png", ""},
		{"added with spaces", "", "my file.png", "my file.png", ""},
		{"removed", "a.png", "", "", "a.png"},
		{"both sides listed", "a b", "b c", "c", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, removed := attachmentDiff(jira.ChangeItem{FromString: jira.Text(tt.from), ToString: jira.Text(tt.to)})
			if strings.Join(added, ",") != tt.added || strings.Join(removed, ",") != tt.removed {
				t.Errorf("added %q removed %q, want %q and %q", added, removed, tt.added, tt.removed)
			}
		})
	}
}
