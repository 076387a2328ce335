package markup

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"

	tele "gopkg.in/telebot.v3"
)

// kind is an entity type this package renders; the others are plain text.
type kind int

const (
	kindBold kind = iota
	kindItalic
	kindUnderline
	kindStrike
	kindCode
	kindPre
	kindQuote
	kindTextLink
	kindURL
	kindMention
	kindTextMention
)

// kindOf compares string values because telebot lacks some newer types
// (expandable_blockquote).
func kindOf(t tele.EntityType) (kind, bool) {
	switch string(t) {
	case "bold":
		return kindBold, true
	case "italic":
		return kindItalic, true
	case "underline":
		return kindUnderline, true
	case "strikethrough":
		return kindStrike, true
	case "code":
		return kindCode, true
	case "pre":
		return kindPre, true
	case "blockquote", "expandable_blockquote":
		return kindQuote, true
	case "text_link":
		return kindTextLink, true
	case "url":
		return kindURL, true
	case "mention":
		return kindMention, true
	case "text_mention":
		return kindTextMention, true
	}
	return 0, false
}

// block kinds start on their own line; everything else is inline.
func (k kind) block() bool { return k == kindPre || k == kindQuote }

// atomic kinds are rendered from their raw text, so they cannot be split or
// hold children.
func (k kind) atomic() bool {
	return k == kindCode || k == kindPre || k == kindURL || k == kindMention
}

// span is an entity converted to rune indexes, as a node of the entity tree.
type span struct {
	kind       kind
	start, end int
	url, lang  string
	user       *tele.User
	order      int
	children   []*span
}

// FromTelegram converts a Telegram message text with its entities into Jira
// wiki markup.
func FromTelegram(text string, entities []tele.MessageEntity) string {
	src := newSource(text)
	spans := collectSpans(src.rs, entities)
	for _, s := range spans {
		src.cut[s.start], src.cut[s.end] = true, true
		if s.kind == kindStrike {
			for i := s.start; i < s.end; i++ {
				src.strike[i] = true
			}
		}
	}
	root := buildTree(spans, src.rs)
	w := &wikiWriter{src: src}
	w.children(root)
	return w.String()
}

// utf16Index maps UTF-16 offsets (Telegram's unit) to rune indexes:
// x[i] is the UTF-16 offset of rune i, x[len] the total length.
type utf16Index []int

func newUTF16Index(rs []rune) utf16Index {
	x := make(utf16Index, len(rs)+1)
	for i, r := range rs {
		n := utf16.RuneLen(r)
		if n < 1 {
			n = 1 // invalid runes are sent as U+FFFD
		}
		x[i+1] = x[i] + n
	}
	return x
}

// runeRange converts an entity's offset and length to a rune range, clamped
// to the text. An edge inside a surrogate pair widens to the whole character.
func (x utf16Index) runeRange(offset, length int) (int, int) {
	total := x[len(x)-1]
	if offset < 0 {
		length += offset
		offset = 0
	}
	if length <= 0 || offset >= total {
		return 0, 0
	}
	length = min(length, total-offset)
	start := sort.SearchInts(x, offset+1) - 1 // last index with x[i] <= offset
	end := sort.SearchInts(x, offset+length)  // first index with x[i] >= end
	return start, end
}

// collectSpans converts the entities to spans. Inline spans are split at
// line breaks and block edges and trimmed of edge whitespace, because Jira
// phrases cannot span lines or start/end with a blank.
func collectSpans(rs []rune, entities []tele.MessageEntity) []*span {
	x := newUTF16Index(rs)
	var blocks, inline []*span
	for i, e := range entities {
		k, ok := kindOf(e.Type)
		if !ok {
			continue
		}
		start, end := x.runeRange(e.Offset, e.Length)
		if start >= end {
			continue
		}
		s := &span{kind: k, start: start, end: end, url: e.URL, lang: e.Language, user: e.User, order: i}
		if k.block() {
			blocks = append(blocks, s)
		} else {
			inline = append(inline, s)
		}
	}
	edge := make([]bool, len(rs)+1)
	for _, b := range blocks {
		edge[b.start], edge[b.end] = true, true
	}
	out := blocks
	for _, s := range inline {
		out = append(out, splitInline(rs, s, edge)...)
	}
	return out
}

func splitInline(rs []rune, s *span, edge []bool) []*span {
	var out []*span
	from := s.start
	for i := s.start; i <= s.end; i++ {
		newline := i < s.end && (rs[i] == '\n' || rs[i] == '\r')
		if i < s.end && !newline && !(edge[i] && i > from) {
			continue
		}
		if p := trimmed(rs, s, from, i); p != nil {
			out = append(out, p)
		}
		from = i
		if newline {
			from = i + 1
		}
	}
	return out
}

// trimmed returns a copy of s covering [from, to) without edge whitespace,
// or nil when nothing is left.
func trimmed(rs []rune, s *span, from, to int) *span {
	for from < to && unicode.IsSpace(rs[from]) {
		from++
	}
	for to > from && unicode.IsSpace(rs[to-1]) {
		to--
	}
	if from >= to {
		return nil
	}
	p := *s
	p.start, p.end, p.children = from, to, nil
	return &p
}

// spanLess orders spans so that parents come before their children: by
// start, longer first, blocks before inline, then in message order.
func spanLess(a, b *span) bool {
	if a.start != b.start {
		return a.start < b.start
	}
	if a.end != b.end {
		return a.end > b.end
	}
	if a.kind.block() != b.kind.block() {
		return a.kind.block()
	}
	return a.order < b.order
}

// buildTree nests the spans under a root covering n runes. A span that
// crosses the end of its parent is split there; the rest is queued again so
// it lands under the right ancestor. Atomic spans are dropped instead.
func buildTree(spans []*span, rs []rune) *span {
	n := len(rs)
	queue := append([]*span(nil), spans...)
	sort.SliceStable(queue, func(i, j int) bool { return spanLess(queue[i], queue[j]) })
	root := &span{start: 0, end: n}
	stack := []*span{root}
	for i := 0; i < len(queue); i++ {
		s := queue[i]
		for stack[len(stack)-1].end <= s.start {
			stack = stack[:len(stack)-1]
		}
		top := stack[len(stack)-1]
		if s.end > top.end {
			if s.kind.atomic() {
				continue
			}
			if rest := restOf(s, top.end, rs); rest != nil {
				queue = insertSorted(queue, i+1, rest)
			}
			s.end = top.end
		}
		top.children = append(top.children, s)
		stack = append(stack, s)
	}
	return root
}

// restOf returns the part of s from at on, trimmed like any inline span.
func restOf(s *span, at int, rs []rune) *span {
	if s.kind.block() {
		rest := *s
		rest.start, rest.children = at, nil
		return &rest
	}
	return trimmed(rs, s, at, s.end)
}

// insertSorted inserts s into queue[from:], which is sorted.
func insertSorted(queue []*span, from int, s *span) []*span {
	tail := queue[from:]
	at := from + sort.Search(len(tail), func(i int) bool { return spanLess(s, tail[i]) })
	queue = append(queue, nil)
	copy(queue[at+1:], queue[at:])
	queue[at] = s
	return queue
}

// wikiWriter renders the span tree.
type wikiWriter struct {
	src *source
	out []rune
	// lit marks the runes of out that are message text written as is, not
	// markup or part of an escape.
	lit []bool
	// needBreak asks for a newline before the next text, after a block.
	needBreak bool
	inLink    bool
	inQuote   bool
	// open holds the inline markers currently open; Jira cannot nest a
	// phrase inside the same phrase.
	open map[string]bool
}

// write writes markup.
func (w *wikiWriter) write(s string) { w.emit(s, false) }

func (w *wikiWriter) emit(s string, lit bool) {
	if s == "" {
		return
	}
	if w.needBreak && s[0] != '\n' {
		w.emit("\n", false)
	}
	w.needBreak = false
	for _, r := range s {
		w.out = append(w.out, r)
		w.lit = append(w.lit, lit)
	}
}

// lineStart makes sure the next output starts a line.
func (w *wikiWriter) lineStart() {
	w.needBreak = false
	if len(w.out) > 0 && w.out[len(w.out)-1] != '\n' {
		w.emit("\n", false)
	}
}

// text writes the message text of runes [from, to), escaped.
func (w *wikiWriter) text(from, to int) {
	for i := from; i < to; i++ {
		e := w.src.escape(i, w.inLink, w.inPhrase())
		w.emit(e, e == string(w.src.rs[i]))
	}
}

func (w *wikiWriter) String() string {
	return protectEmoticons(w.out, w.lit)
}

func (w *wikiWriter) setOpen(marker string, open bool) {
	if w.open == nil {
		w.open = map[string]bool{}
	}
	w.open[marker] = open
}

func (w *wikiWriter) inPhrase() bool {
	for _, open := range w.open {
		if open {
			return true
		}
	}
	return false
}

func (w *wikiWriter) children(s *span) {
	pos := s.start
	for _, c := range s.children {
		w.text(pos, c.start)
		w.node(c)
		pos = c.end
	}
	w.text(pos, s.end)
}

func (w *wikiWriter) node(s *span) {
	switch s.kind {
	case kindBold:
		w.phrase(s, "*")
	case kindItalic:
		w.phrase(s, "_")
	case kindUnderline:
		w.phrase(s, "+")
	case kindStrike:
		w.phrase(s, "-")
	case kindCode:
		w.code(s)
	case kindPre:
		w.pre(s)
	case kindQuote:
		w.quote(s)
	case kindTextLink:
		w.textLink(s)
	case kindURL:
		w.url(s)
	case kindMention:
		w.mention(s)
	case kindTextMention:
		w.textMention(s)
	}
}

// phrase wraps s in an inline marker, using the "{*}" form where a plain
// marker would touch a letter or digit and so not count in Jira.
func (w *wikiWriter) phrase(s *span, m string) {
	if w.open[m] || w.src.unencodable(s.start, s.end) {
		w.children(s)
		return
	}
	open, close := m, m
	if w.src.wordAt(s.start - 1) {
		open = "{" + m + "}"
	}
	if w.src.wordAt(s.end) {
		close = "{" + m + "}"
	}
	w.setOpen(m, true)
	w.write(open)
	w.children(s)
	w.write(close)
	w.setOpen(m, false)
}

// code writes {{monospace}}. Jira has no brace form for it, so code glued
// to a letter or digit would show its braces; it becomes plain text then.
func (w *wikiWriter) code(s *span) {
	if w.open["{{"] || w.src.wordAt(s.start-1) || w.src.wordAt(s.end) || w.src.unencodable(s.start, s.end) {
		w.text(s.start, s.end)
		return
	}
	w.setOpen("{{", true)
	w.write("{{")
	w.text(s.start, s.end)
	w.write("}}")
	w.setOpen("{{", false)
}

// Languages Jira's {code} macro highlights, with common Telegram aliases.
var jiraLanguages = map[string]string{
	"actionscript": "actionscript", "ada": "ada", "applescript": "applescript",
	"bash": "bash", "sh": "bash", "shell": "bash", "c": "c", "c#": "c#",
	"csharp": "c#", "cs": "c#", "c++": "cpp", "cpp": "cpp", "css": "css",
	"erlang": "erlang", "go": "go", "golang": "go", "groovy": "groovy",
	"haskell": "haskell", "html": "html", "java": "java",
	"javascript": "javascript", "js": "javascript", "json": "json",
	"kotlin": "kotlin", "lua": "lua", "objc": "objc", "objective-c": "objc",
	"perl": "perl", "php": "php", "python": "python", "py": "python",
	"r": "r", "ruby": "ruby", "rb": "ruby", "rust": "rust", "scala": "scala",
	"sql": "sql", "swift": "swift", "typescript": "typescript",
	"ts": "typescript", "vb": "visualbasic", "visualbasic": "visualbasic",
	"xml": "xml", "yaml": "yaml", "yml": "yaml",
}

// pre writes a code block. Its content is raw; only a content that contains
// the closing tag itself forces another macro or, at worst, escaped text.
func (w *wikiWriter) pre(s *span) {
	content := string(w.src.rs[s.start:s.end])
	lang, known := jiraLanguages[strings.ToLower(strings.TrimSpace(s.lang))]
	var open, close string
	switch {
	case !strings.Contains(content, "{code}") && known:
		open, close = "{code:"+lang+"}", "{code}"
	case !strings.Contains(content, "{code}") && s.lang != "":
		open, close = "{code}", "{code}"
	case !strings.Contains(content, "{noformat}"):
		open, close = "{noformat}", "{noformat}"
	case !strings.Contains(content, "{code}"):
		open, close = "{code}", "{code}"
	default:
		w.text(s.start, s.end)
		return
	}
	w.lineStart()
	w.write(open + "\n" + content)
	w.lineStart()
	w.write(close)
	w.needBreak = true
}

func (w *wikiWriter) quote(s *span) {
	if w.inQuote || w.inLink {
		w.children(s)
		return
	}
	w.lineStart()
	w.write("{quote}\n")
	w.inQuote = true
	w.children(s)
	w.inQuote = false
	w.lineStart()
	w.write("{quote}")
	w.needBreak = true
}

// link writes [text|url] with the children of s as the text.
func (w *wikiWriter) link(s *span, url string) {
	if w.inLink {
		w.children(s)
		return
	}
	w.inLink = true
	w.write("[")
	w.children(s)
	w.write("|" + encodeURL(url) + "]")
	w.inLink = false
}

func (w *wikiWriter) textLink(s *span) {
	if !jiraURL(s.url) {
		w.children(s)
		return
	}
	w.link(s, s.url)
}

// url writes a bare URL entity; its text is the target, so text that would
// need escaping inside the brackets stays plain text instead.
func (w *wikiWriter) url(s *span) {
	raw := string(w.src.rs[s.start:s.end])
	switch {
	case w.inLink || strings.ContainsAny(raw, "[]|{}\\") || !plainURL(raw):
		w.text(s.start, s.end)
	case jiraURL(raw):
		w.write("[" + raw + "]")
	case !strings.Contains(raw, "://"):
		w.link(s, "http://"+raw)
	default:
		w.text(s.start, s.end)
	}
}

func (w *wikiWriter) mention(s *span) {
	raw := string(w.src.rs[s.start:s.end])
	name, ok := strings.CutPrefix(raw, "@")
	if !ok || !validUsername(name) {
		w.text(s.start, s.end)
		return
	}
	w.link(s, "https://t.me/"+name)
}

func (w *wikiWriter) textMention(s *span) {
	if s.user == nil || !validUsername(s.user.Username) {
		w.children(s)
		return
	}
	w.link(s, "https://t.me/"+s.user.Username)
}

func validUsername(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !isASCIIAlnum(r) && r != '_' {
			return false
		}
	}
	return true
}

// jiraURL reports whether Jira's link renderer treats u as an external link.
func jiraURL(u string) bool {
	l := strings.ToLower(u)
	for _, p := range []string{"http://", "https://", "ftp://", "mailto:"} {
		if strings.HasPrefix(l, p) && len(l) > len(p) {
			return true
		}
	}
	return false
}

// plainURL reports whether a URL can be written as is inside brackets: no
// blanks, and only characters Jira accepts inside a phrase around it.
func plainURL(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !phraseRune(r) })
}

// encodeURL percent-encodes what would end a [text|url] link early, and
// non-ASCII bytes, which Jira's link renderer may not take.
func encodeURL(u string) string {
	var b strings.Builder
	for _, c := range []byte(u) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("[]|{}", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
