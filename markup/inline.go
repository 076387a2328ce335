package markup

import (
	"html"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// phraseDef is one of Jira's inline phrases. An empty tag means the phrase
// has no Telegram equivalent and only its content is shown.
type phraseDef struct {
	open, close, tag string
}

var phraseDefs = []phraseDef{
	{"*", "*", "b"},
	{"_", "_", "i"},
	{"+", "+", "u"},
	{"-", "-", "s"},
	{"??", "??", "i"},
	{"^", "^", ""},
	{"~", "~", ""},
	{"{{", "}}", "code"},
}

// escapable lists the characters Jira unescapes after a backslash.
const escapable = `-#*_+?^~|%{}[]()!@`

func isEscapable(r rune) bool { return strings.ContainsRune(escapable, r) }

// Emoticons Jira draws as icons, as emoji.
var emoticons = []struct{ wiki, emoji string }{
	{"(/)", "✅"}, {"(x)", "❌"}, {"(!)", "⚠️"}, {"(y)", "👍"}, {"(n)", "👎"},
	{"(i)", "ℹ️"}, {"(?)", "❓"}, {"(on)", "💡"}, {"(off)", "💡"}, {"(*)", "⭐"},
}

// inline renders one line of inline markup. Phrases never span lines in
// Jira, so every tag opened here is closed before it returns. noLinks is set
// inside link text, where Telegram cannot nest another link.
func (r *renderer) inline(rs []rune, noLinks bool) {
	var buf []rune
	cache := make([]closeHit, len(phraseDefs))
	for i := range cache {
		cache[i].from = -1
	}
	flush := func() {
		r.w.text(string(buf))
		buf = buf[:0]
	}
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case c == '\\' && i+1 < len(rs) && rs[i+1] == '\\':
			buf = append(buf, '\n')
			i += 2
			continue
		case c == '\\' && i+1 < len(rs) && isEscapable(rs[i+1]):
			buf = append(buf, rs[i+1])
			i += 2
			continue
		case c == '\\' && escapedFace(rs, i+1):
			buf = append(buf, rs[i+1], rs[i+2])
			i += 3
			continue
		case c == '&':
			if n, text := htmlEntity(rs, i); n > 0 {
				buf = append(buf, []rune(text)...)
				i += n
				continue
			}
		case c == '[' && !noLinks:
			if end, ok := linkEnd(rs, i); ok {
				flush()
				r.link(rs[i+1:end-1], rs[i:end])
				i = end
				continue
			}
		case c == '!':
			if end, name, ok := image(rs, i); ok {
				buf = append(buf, []rune("["+name+"]")...)
				i = end
				continue
			}
		case c == '{':
			if end, ok := colorTag(rs, i); ok {
				i = end
				continue
			}
		case c == '(':
			if end, emoji, ok := emoticon(rs, i); ok {
				buf = append(buf, []rune(emoji)...)
				i = end
				continue
			}
		}
		if p, ok := matchPhrase(rs, i, noLinks, cache); ok {
			flush()
			r.phrase(p, rs[p.from:p.to], noLinks)
			i = p.next
			continue
		}
		buf = append(buf, c)
		i++
	}
	flush()
}

// phraseMatch is a phrase found in a line: content rs[from:to], and the
// index after the closing delimiter.
type phraseMatch struct {
	def            phraseDef
	from, to, next int
}

func (r *renderer) phrase(p phraseMatch, content []rune, noLinks bool) {
	if p.def.tag == "code" {
		// Telegram code cannot hold other tags; show the text with escapes
		// resolved.
		r.w.open("code", "<code>")
		r.w.text(unescape(content))
		r.w.close()
		return
	}
	if p.def.tag != "" {
		r.w.open(p.def.tag, "<"+p.def.tag+">")
	}
	r.inline(content, noLinks)
	if p.def.tag != "" {
		r.w.close()
	}
}

// matchPhrase finds a phrase opening at i, following the rules of Jira's
// phrase renderer: the plain delimiter must not follow a letter, digit or
// backslash; "{*}" may open anywhere.
func matchPhrase(rs []rune, i int, noLinks bool, cache []closeHit) (phraseMatch, bool) {
	for n, d := range phraseDefs {
		from := -1
		switch {
		case hasRunes(rs, i, d.open) && validStart(rs, i):
			from = i + len(d.open)
		case rs[i] == '{' && hasRunes(rs, i+1, d.open+"}"):
			from = i + len(d.open) + 2
		default:
			continue
		}
		hit := cache[n]
		if !hit.covers(from) {
			hit = findClose(rs, from, d, noLinks)
			cache[n] = hit
		}
		if hit.at < 0 {
			continue
		}
		to, next := hit.at, hit.at+len(d.close)
		if hit.brace {
			next += 2
		}
		ok := validContent(rs[from:to], d)
		if !hit.brace && next < len(rs) && isWordRune(rs[next]) {
			ok = false
		}
		if ok {
			return phraseMatch{def: d, from: from, to: to, next: next}, true
		}
	}
	return phraseMatch{}, false
}

func validStart(rs []rune, i int) bool {
	return i == 0 || !(isWordRune(rs[i-1]) || rs[i-1] == '\\')
}

// closeHit is where the first closing delimiter after from is (at, -1 if
// none), in plain or "{*}" form. It holds for every start in [from, at], which
// keeps lines full of unmatched openers linear.
type closeHit struct {
	from, at int
	brace    bool
}

func (h closeHit) covers(from int) bool {
	return h.from >= 0 && from >= h.from && (h.at < 0 || from <= h.at)
}

// findClose looks for the end of a phrase whose content starts at from. The
// content cannot contain the closing delimiter, so only its first occurrence
// (outside escapes and links) can end the phrase.
func findClose(rs []rune, from int, d phraseDef, noLinks bool) closeHit {
	for k := from; k < len(rs); k++ {
		switch {
		case rs[k] == '\\' && k+1 < len(rs) && (rs[k+1] == '\\' || isEscapable(rs[k+1])):
			k++
			continue
		case rs[k] == '[' && !noLinks:
			if end, ok := linkEnd(rs, k); ok {
				k = end - 1
				continue
			}
		}
		if rs[k] == '{' && hasRunes(rs, k+1, d.close+"}") {
			return closeHit{from: from, at: k, brace: true}
		}
		if hasRunes(rs, k, d.close) {
			return closeHit{from: from, at: k}
		}
	}
	return closeHit{from: from, at: -1}
}

// validContent applies Jira's constraints on phrase content: not empty, no
// blank at either edge, no delimiter character at the edges (an escaped one
// is fine) and only letters, digits, separators, symbols, marks and
// punctuation.
func validContent(c []rune, d phraseDef) bool {
	if len(c) == 0 {
		return false
	}
	first, last := c[0], c[len(c)-1]
	if unicode.IsSpace(first) || strings.ContainsRune(d.open, first) {
		return false
	}
	lastEscaped := len(c) >= 2 && c[len(c)-2] == '\\' && isEscapable(last)
	if !lastEscaped && (unicode.IsSpace(last) || strings.ContainsRune(d.close, last) || last == '\\') {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] == '[' {
			// Jira turns links into tokens before it matches phrases.
			if end, ok := linkEnd(c, i); ok {
				i = end - 1
				continue
			}
		}
		if !phraseRune(c[i]) {
			return false
		}
	}
	return true
}

func hasRunes(rs []rune, i int, s string) bool {
	for _, r := range s {
		if i < 0 || i >= len(rs) || rs[i] != r {
			return false
		}
		i++
	}
	return true
}

// unescape resolves backslash escapes, HTML entities and "\\" line breaks.
func unescape(rs []rune) string {
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		if n, text := htmlEntity(rs, i); n > 0 {
			b.WriteString(text)
			i += n - 1
			continue
		}
		if rs[i] == '\\' && i+1 < len(rs) {
			switch {
			case rs[i+1] == '\\':
				b.WriteByte('\n')
				i++
				continue
			case isEscapable(rs[i+1]):
				b.WriteRune(rs[i+1])
				i++
				continue
			case escapedFace(rs, i+1):
				continue // the face follows; only the backslash goes
			}
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

// linkEnd returns the index after the "]" closing a link that opens at i.
func linkEnd(rs []rune, i int) (int, bool) {
	for k := i + 1; k < len(rs); k++ {
		switch rs[k] {
		case '\\':
			if k+1 < len(rs) && (rs[k+1] == '\\' || isEscapable(rs[k+1])) {
				k++
			}
		case '[':
			return 0, false
		case ']':
			return k + 1, k > i+1
		}
	}
	return 0, false
}

// link renders the body of [text|target]: links to web, mail and Telegram
// URLs, mentions for [~user], and just the text for anything else (Jira
// pages, attachments, anchors). raw is the whole link, shown when the body
// is unusable.
func (r *renderer) link(body, raw []rune) {
	parts := splitPipes(body)
	text, target := parts[0], parts[0]
	hasText := len(parts) > 1
	if hasText {
		target = parts[1]
	}
	t := strings.TrimSpace(string(target))
	switch {
	case strings.HasPrefix(t, "~"):
		r.mentionName(strings.TrimPrefix(t, "~"), raw)
	case strings.HasPrefix(t, "^") || strings.HasPrefix(t, "#"):
		if hasText && len(trimRunes(text)) > 0 {
			r.inline(text, true)
		} else {
			r.w.text(unescape([]rune(t[1:])))
		}
	case telegramURL(t):
		r.w.open("a", `<a href="`+EscapeHTML(t)+`">`)
		if hasText && len(trimRunes(text)) > 0 {
			r.inline(text, true)
		} else {
			r.w.text(t)
		}
		r.w.close()
	case hasText && len(trimRunes(text)) > 0:
		r.inline(text, true)
	case t != "":
		r.w.text(unescape([]rune(t)))
	default:
		r.w.text(string(raw))
	}
}

func (r *renderer) mentionName(id string, raw []rune) {
	id = strings.TrimSpace(strings.TrimPrefix(id, "accountid:"))
	if id == "" {
		r.w.text(string(raw))
		return
	}
	name := ""
	if r.mention != nil {
		name = r.mention(id)
	}
	if name == "" {
		name = id
	}
	r.w.text("@" + name)
}

// splitPipes splits a link body at "|" that are not escaped.
func splitPipes(rs []rune) [][]rune {
	var parts [][]rune
	start := 0
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
		case rs[i] == '|':
			parts = append(parts, rs[start:i])
			start = i + 1
		}
	}
	return append(parts, rs[start:])
}

// telegramURL reports whether u may become a Telegram link: only web, mail
// and tg: URLs, and only ones Telegram will accept.
func telegramURL(u string) bool {
	if u == "" || strings.ContainsFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return false
	}
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		return p.Host != ""
	case "mailto":
		return p.Opaque != ""
	case "tg":
		return p.Host != "" || p.Opaque != ""
	}
	return false
}

// image matches "!file.png!" or "!file.png|thumbnail!" and returns the
// file name.
func image(rs []rune, i int) (end int, name string, ok bool) {
	if !validStart(rs, i) {
		return 0, "", false
	}
	k := i + 1
	for k < len(rs) && rs[k] != '!' {
		k++
	}
	if k >= len(rs) || k == i+1 || unicode.IsSpace(rs[i+1]) || unicode.IsSpace(rs[k-1]) {
		return 0, "", false
	}
	n, _, _ := strings.Cut(string(rs[i+1:k]), "|")
	n = strings.TrimSpace(n)
	if n == "" {
		return 0, "", false
	}
	return k + 1, n, true
}

// colorTag matches {color:x} and {color}: Telegram has no colours, so the
// tags are dropped and the text kept.
func colorTag(rs []rune, i int) (int, bool) {
	if hasRunes(rs, i, "{color}") {
		return i + len("{color}"), true
	}
	if !hasRunes(rs, i, "{color:") {
		return 0, false
	}
	for k := i + len("{color:"); k < len(rs); k++ {
		switch rs[k] {
		case '}':
			return k + 1, true
		case '{':
			return 0, false
		}
	}
	return 0, false
}

func emoticon(rs []rune, i int) (int, string, bool) {
	for _, e := range emoticons {
		end := i + len([]rune(e.wiki))
		if hasRunes(rs, i, e.wiki) && (end >= len(rs) || !isWordRune(rs[end])) {
			return end, e.emoji, true
		}
	}
	return 0, "", false
}

// escapedFace reports a face emoticon (":)", ";)", ...) at i. Jira shows it
// as text, without the backslash, when a backslash precedes it.
func escapedFace(rs []rune, i int) bool {
	if i+1 >= len(rs) || i+2 < len(rs) && isWordRune(rs[i+2]) {
		return false
	}
	switch rs[i] {
	case ':':
		return strings.ContainsRune("()PD", rs[i+1])
	case ';':
		return rs[i+1] == ')'
	}
	return false
}

// htmlEntity decodes an entity such as "&amp;", "&#92;" or "&#x5c;" at i,
// which Jira passes through to the page, and returns its length in runes.
func htmlEntity(rs []rune, i int) (int, string) {
	if rs[i] != '&' {
		return 0, ""
	}
	end := i + 1
	for end < len(rs) && end-i <= 32 && (isASCIIAlnum(rs[end]) || end == i+1 && rs[end] == '#') {
		end++
	}
	if end >= len(rs) || rs[end] != ';' || end == i+1 {
		return 0, ""
	}
	token := string(rs[i : end+1])
	text := html.UnescapeString(token)
	if text == token || utf8.RuneCountInString(text) > 2 {
		// Unknown, or only a legacy prefix such as "&amp" in "&ampx;".
		return 0, ""
	}
	return end + 1 - i, text
}
