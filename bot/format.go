package bot

import (
	"fmt"
	"strings"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
)

// The functions here render Jira events as Telegram HTML. They are pure:
// every piece of Jira text is escaped or converted by markup, so the
// result always parses, and composeMessage keeps it within Telegram's limit.

// maxMessage is Telegram's limit on a message's text.
const maxMessage = 4096

// descriptionExcerpt bounds the part of a new issue's description shown.
const descriptionExcerpt = 700

// issueHeader is the first line of every notification: what kind of issue,
// which one (linked), and its summary.
func issueHeader(browseURL, key, issueType, summary string) string {
	h := fmt.Sprintf("%s <a href=\"%s\"><b>%s</b></a>", typeEmoji(issueType), markup.EscapeHTML(browseURL), markup.EscapeHTML(key))
	if summary != "" {
		h += " " + markup.EscapeHTML(summary)
	}
	return h
}

func typeEmoji(issueType string) string {
	switch strings.ToLower(issueType) {
	case "bug":
		return "🐞"
	case "story":
		return "📗"
	case "epic":
		return "🟣"
	case "sub-task", "subtask":
		return "🔹"
	case "improvement", "new feature":
		return "✨"
	}
	return "📌"
}

// createdLines describe a new issue: who filed it, its state, the start of
// its description.
func createdLines(f jira.IssueFields, actor, description string, mention func(string) string) []string {
	first := "🆕 created"
	if actor != "" {
		first += " by <b>" + markup.EscapeHTML(actor) + "</b>"
	}
	lines := []string{first}
	var facts []string
	if f.Status != nil && f.Status.Name != "" {
		facts = append(facts, "🔖 "+markup.EscapeHTML(string(f.Status.Name)))
	}
	if f.Priority != nil && f.Priority.Name != "" {
		facts = append(facts, "⚡ "+markup.EscapeHTML(string(f.Priority.Name)))
	}
	if name := f.Assignee.Display(); name != "" {
		facts = append(facts, "👤 "+markup.EscapeHTML(name))
	}
	if len(facts) > 0 {
		lines = append(lines, strings.Join(facts, " · "))
	}
	if strings.TrimSpace(description) != "" {
		lines = append(lines, markup.Truncate(markup.ToTelegramHTML(description, mention), descriptionExcerpt))
	}
	return lines
}

// changeLines render a changelog: a line for each field people act on, and
// one line naming the other changed fields. attachmentURL links a file by
// its id and name.
func changeLines(items []jira.ChangeItem, attachmentURL func(id, name string) string) []string {
	var lines, other []string
	for _, it := range items {
		if line := changeLine(it, attachmentURL); line != "" {
			lines = append(lines, line)
		} else if name := string(it.Field); name != "" && !contains(other, name) {
			other = append(other, name)
		}
	}
	if len(other) > 0 {
		lines = append(lines, "✏️ also changed: "+markup.EscapeHTML(strings.Join(other, ", ")))
	}
	return lines
}

func changeLine(it jira.ChangeItem, attachmentURL func(id, name string) string) string {
	from, to := markup.EscapeHTML(string(it.FromString)), markup.EscapeHTML(string(it.ToString))
	switch strings.ToLower(string(it.Field)) {
	case "status":
		if from == "" {
			return "🔖 <b>" + to + "</b>"
		}
		return "🔄 " + from + " → <b>" + to + "</b>"
	case "assignee":
		if to == "" {
			return "👤 unassigned"
		}
		return "👤 assigned to <b>" + to + "</b>"
	case "priority":
		if from == "" {
			return "⚡ priority <b>" + to + "</b>"
		}
		return "⚡ priority " + from + " → <b>" + to + "</b>"
	case "resolution":
		if to == "" {
			return "↩️ reopened (was " + from + ")"
		}
		return "✅ resolved: <b>" + to + "</b>"
	case "summary":
		if from == "" {
			return "📝 summary: <b>" + to + "</b>"
		}
		return "📝 summary: <s>" + from + "</s> → <b>" + to + "</b>"
	case "duedate":
		if to == "" {
			return "📅 due date removed"
		}
		return "📅 due <b>" + markup.EscapeHTML(dateOnly(string(it.ToString))) + "</b>"
	case "attachment":
		return attachmentChange(it, attachmentURL)
	}
	return ""
}

// attachmentChange renders an "Attachment" changelog item: Jira names the
// added file's id in "to" and its name in "toString" (a removed one in
// "from"). Some versions list all names on both sides instead.
func attachmentChange(it jira.ChangeItem, attachmentURL func(id, name string) string) string {
	added, removed := attachmentDiff(it)
	var parts []string
	for _, name := range added {
		id := ""
		if len(added) == 1 {
			id = string(it.To)
		}
		parts = append(parts, "📎 "+fileLink(attachmentURL(id, name), name, -1))
	}
	for _, name := range removed {
		parts = append(parts, "📎 removed <s>"+markup.EscapeHTML(name)+"</s>")
	}
	return strings.Join(parts, "\n")
}

// attachmentDiff lists the file names an "Attachment" item added and removed.
func attachmentDiff(it jira.ChangeItem) (added, removed []string) {
	from, to := strings.TrimSpace(string(it.FromString)), strings.TrimSpace(string(it.ToString))
	switch {
	case from == "" && to == "":
		return nil, nil
	case from == "":
		return []string{to}, nil
	case to == "":
		return nil, []string{from}
	}
	before, after := strings.Fields(from), strings.Fields(to)
	for _, n := range after {
		if !contains(before, n) {
			added = append(added, n)
		}
	}
	for _, n := range before {
		if !contains(after, n) {
			removed = append(removed, n)
		}
	}
	return added, removed
}

// attachmentLine renders an attachment_created event.
func attachmentLine(a *jira.Attachment) string {
	if a == nil {
		return "📎 attachment added"
	}
	return "📎 " + fileLink(string(a.Content), string(a.Filename), a.Size)
}

// fileLink is a file's name, linked when the URL is a web address, with its
// size when known (size < 0: unknown).
func fileLink(url, name string, size int64) string {
	if name == "" {
		name = "attachment"
	}
	s := markup.EscapeHTML(name)
	if strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://") {
		s = "<a href=\"" + markup.EscapeHTML(url) + "\">" + s + "</a>"
	}
	if size >= 0 {
		s += " (" + humanSize(size) + ")"
	}
	return s
}

// commentText shows a comment: its author, then its body converted from
// wiki markup.
func commentText(author, body string, edited bool, mention func(string) string) string {
	if author == "" {
		author = "someone"
	}
	head := "💬 <b>" + markup.EscapeHTML(author) + "</b>"
	if edited {
		head += " <i>(edited)</i>"
	}
	return head + ":\n" + markup.ToTelegramHTML(body, mention)
}

// commentDeletedText replaces a comment that was deleted in Jira.
func commentDeletedText(author string) string {
	if author == "" {
		return "🗑 <i>comment deleted</i>"
	}
	return "🗑 <i>comment by " + markup.EscapeHTML(author) + " deleted</i>"
}

// deletedLine says the issue is gone.
func deletedLine(actor string) string {
	if actor == "" {
		return "🗑 <b>issue deleted</b>"
	}
	return "🗑 <b>issue deleted</b> by " + markup.EscapeHTML(actor)
}

// byLine names who made changes.
func byLine(actor string) string {
	return "<i>— " + markup.EscapeHTML(actor) + "</i>"
}

// composeMessage joins a header and lines into one message of at most
// maxMessage characters. A longer one is cut, marked with "…", and ends
// with a link to where the whole text can be read.
func composeMessage(header string, lines []string, link string) string {
	text := header
	if len(lines) > 0 {
		text += "\n" + strings.Join(lines, "\n")
	}
	if markup.Truncate(text, maxMessage) == text {
		return text
	}
	more := "\n<a href=\"" + markup.EscapeHTML(link) + "\">read the rest in Jira</a>"
	return markup.Truncate(text, maxMessage-len("\nread the rest in Jira")) + more
}

// digestEntry is one issue's line in a digest.
type digestEntry struct {
	browseURL, key, summary string
	what                    []string // short HTML notes, e.g. "To Do → Done"
}

// digestMessage lists many issues changed at once (a bulk edit) in one
// message instead of one message each.
func digestMessage(project string, entries []digestEntry, link string) string {
	title := fmt.Sprintf("📋 <b>%d issues changed", len(entries))
	if project != "" {
		title += " in " + markup.EscapeHTML(project)
	}
	title += "</b>"
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		line := fmt.Sprintf("• <a href=\"%s\">%s</a>", markup.EscapeHTML(e.browseURL), markup.EscapeHTML(e.key))
		if e.summary != "" {
			line += " " + markup.EscapeHTML(e.summary)
		}
		if len(e.what) > 0 {
			line += ": " + strings.Join(e.what, "; ")
		}
		lines = append(lines, line)
	}
	return composeMessage(title, lines, link)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// dateOnly trims Data Center's "2024-05-01 00:00:00.0" to the date.
func dateOnly(s string) string {
	if len(s) > 10 && s[4] == '-' && s[7] == '-' {
		return s[:10]
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
