package bot

import (
	"strconv"
	"strings"
	"unicode/utf16"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
)

// Summary is the first non-empty line of text, at most 255 characters, cut
// on a character boundary with "…".
func Summary(text string) string {
	line := ""
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			line = l
			break
		}
	}
	if line == "" {
		return "(no text)"
	}
	// Jira counts Java characters (UTF-16 code units), not runes: a line of
	// emoji is half as long to Jira as its rune count says.
	return jira.TruncateUTF16(line, jira.MaxSummary)
}

// maxField is Jira's limit on a text field (description, comment). Jira
// counts Java characters, that is UTF-16 code units.
const maxField = 32767

// fitField joins body and tail (a footer) within Jira's limit. Too long a
// body is cut on a character boundary, with a note that the whole text is
// attached as file; cut reports whether that happened.
func fitField(body, tail, file string) (text string, cut bool) {
	if utf16Len(body)+utf16Len(tail) <= maxField {
		return body + tail, false
	}
	note := "\n\n_(cut: Jira takes at most 32,767 characters; the whole text is attached as " + file + ")_"
	return cutUnits(body, maxField-utf16Len(tail)-utf16Len(note)) + note + tail, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutUnits returns the longest prefix of s that fits in n UTF-16 units.
func cutUnits(s string, n int) string {
	used := 0
	for i, r := range s {
		if used += utf16.RuneLen(r); used > n {
			return s[:i]
		}
	}
	return s
}

// sliceText returns text[start:end] (byte offsets) with the entities that
// fall in it, moved to their new offsets; bot_command entities are dropped.
func sliceText(text string, entities []tele.MessageEntity, start, end int) (string, []tele.MessageEntity) {
	from, to := utf16Len(text[:start]), utf16Len(text[:end])
	var out []tele.MessageEntity
	for _, e := range entities {
		s, t := max(e.Offset, from), min(e.Offset+e.Length, to)
		if e.Type == tele.EntityCommand || t <= s {
			continue
		}
		e.Offset, e.Length = s-from, t-s
		out = append(out, e)
	}
	return text[start:end], out
}

// entityText returns the part of text an entity covers. Telegram counts
// offsets in UTF-16 code units; out-of-range entities give "".
func entityText(text string, e tele.MessageEntity) string {
	units := utf16.Encode([]rune(text))
	start, end := e.Offset, e.Offset+e.Length
	if start < 0 || e.Length <= 0 || end > len(units) {
		return ""
	}
	return string(utf16.Decode(units[start:end]))
}

// hashtags lists the message's hashtags without "#", as Jira labels (which
// cannot hold spaces: a hashtag never has one).
func hashtags(text string, entities []tele.MessageEntity) []string {
	var tags []string
	seen := map[string]bool{}
	for _, e := range entities {
		if e.Type != tele.EntityHashtag {
			continue
		}
		tag := strings.TrimPrefix(entityText(text, e), "#")
		if tag == "" || seen[strings.ToLower(tag)] {
			continue
		}
		seen[strings.ToLower(tag)] = true
		tags = append(tags, tag)
	}
	return tags
}

func fullName(u *tele.User) string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// Attribution is how Jira names a Telegram author: "First Last (@username) via Telegram".
func Attribution(u *tele.User) string {
	if u == nil {
		return "Someone via Telegram"
	}
	name := fullName(u)
	if u.Username != "" {
		name += " (@" + u.Username + ")"
	}
	return strings.TrimSpace(name) + " via Telegram"
}

// MessageURL is the t.me link of a message: the public form for chats with
// a username, the /c/ form (members only) for private supergroups and
// channels, nothing for other chats.
func MessageURL(c *tele.Chat, messageID int) string {
	if c == nil {
		return ""
	}
	if c.Username != "" {
		return "https://t.me/" + c.Username + "/" + strconv.Itoa(messageID)
	}
	id := strconv.FormatInt(c.ID, 10)
	if !strings.HasPrefix(id, "-100") {
		return ""
	}
	return "https://t.me/c/" + id[4:] + "/" + strconv.Itoa(messageID)
}
