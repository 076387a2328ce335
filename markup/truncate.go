package markup

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ellipsis marks truncated text; it counts as one UTF-16 unit.
const ellipsis = "…"

// Truncate cuts Telegram HTML to at most limit characters of visible text
// (counted in UTF-16 units as Telegram counts the 4096 limit), appending "…",
// closing any open tags so the result stays valid. The input is expected to
// be valid Telegram HTML such as ToTelegramHTML returns; for anything else
// it only promises not to panic.
func Truncate(html string, limit int) string {
	if visibleLen(html) <= limit {
		return html
	}
	if limit <= 0 {
		return ""
	}
	var b strings.Builder
	var open []string
	budget := limit - utf16Len(ellipsis)
	used := 0
	for i := 0; i < len(html); {
		if html[i] == '<' {
			if end := strings.IndexByte(html[i:], '>'); end > 0 {
				open = copyTag(&b, open, html[i:i+end+1])
				i += end + 1
				continue
			}
		}
		piece, units := nextChar(html, i)
		if used+units > budget {
			break
		}
		i += len(piece)
		used += units
		if piece == "<" || piece == "&" || piece == ">" {
			piece = EscapeHTML(piece) // stray markup characters
		}
		b.WriteString(piece)
	}
	b.WriteString(ellipsis)
	for j := len(open) - 1; j >= 0; j-- {
		b.WriteString("</" + open[j] + ">")
	}
	return b.String()
}

// copyTag writes an allowed tag and tracks the open ones; a closing tag
// that does not match the innermost open tag is dropped.
func copyTag(b *strings.Builder, open []string, tag string) []string {
	name, closing := tagName(tag)
	if !allowedTag(name) {
		return open
	}
	if closing {
		if len(open) == 0 || open[len(open)-1] != name {
			return open
		}
		b.WriteString(tag)
		return open[:len(open)-1]
	}
	b.WriteString(tag)
	return append(open, name)
}

func allowedTag(name string) bool {
	switch name {
	case "b", "i", "u", "s", "code", "pre", "a", "blockquote":
		return true
	}
	return false
}

// tagName returns the lower-case name of "<name ...>" or "</name>".
func tagName(tag string) (string, bool) {
	t := strings.TrimSuffix(strings.TrimPrefix(tag, "<"), ">")
	closing := strings.HasPrefix(t, "/")
	t = strings.TrimPrefix(t, "/")
	if i := strings.IndexAny(t, " \t\n/"); i >= 0 {
		t = t[:i]
	}
	return strings.ToLower(t), closing
}

// visibleLen counts the text of html in UTF-16 units, entities as the
// character they stand for.
func visibleLen(html string) int {
	n := 0
	for i := 0; i < len(html); {
		if html[i] == '<' {
			if end := strings.IndexByte(html[i:], '>'); end > 0 {
				i += end + 1
				continue
			}
		}
		piece, units := nextChar(html, i)
		n += units
		i += len(piece)
	}
	return n
}

// nextChar returns the visible character at i, either one rune or a whole
// entity, with its length in UTF-16 units.
func nextChar(html string, i int) (string, int) {
	if html[i] == '&' {
		if end := strings.IndexByte(html[i:], ';'); end > 1 && end <= 12 {
			if r, ok := decodeEntity(html[i+1 : i+end]); ok {
				return html[i : i+end+1], utf16Len(string(r))
			}
		}
	}
	r, size := utf8.DecodeRuneInString(html[i:])
	return html[i : i+size], utf16Len(string(r))
}

// decodeEntity decodes the entities Telegram understands.
func decodeEntity(name string) (rune, bool) {
	switch name {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	}
	if !strings.HasPrefix(name, "#") {
		return 0, false
	}
	base, digits := 10, name[1:]
	if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
		base, digits = 16, digits[1:]
	}
	v, err := strconv.ParseUint(digits, base, 21)
	if err != nil || !utf8.ValidRune(rune(v)) {
		return 0, false
	}
	return rune(v), true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}
