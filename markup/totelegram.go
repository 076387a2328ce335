package markup

import (
	"regexp"
	"strconv"
	"strings"
)

// ToTelegramHTML converts Jira wiki markup into Telegram's HTML subset.
// mention resolves "[~accountid:ID]" or "[~username]" to a display name; it
// is called with ID or username (without the "accountid:" prefix), may be
// nil or return "" (then the raw id is shown). Mentions are rendered as
// plain "@Name" text.
func ToTelegramHTML(src string, mention func(id string) string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	r := &renderer{mention: mention}
	for _, seg := range splitMacros(src) {
		r.segment(seg)
	}
	r.w.closeAll()
	return r.w.b.String()
}

// segKind tells what a piece of the source between block macros is.
type segKind int

const (
	segText segKind = iota
	segCode
	segNoformat
	segQuoteOpen
	segQuoteClose
)

type segment struct {
	kind segKind
	text string // text, or the raw content of a code block
	lang string
}

var macroRe = regexp.MustCompile(`\{(code|noformat|quote)(?::([^{}\n]*))?\}`)

type macroToken struct {
	name, params string
	start, end   int
}

// splitMacros cuts the source at {code}, {noformat} and {quote} macros.
// Code blocks take everything up to their closing tag raw; a macro without
// a partner stays literal text, as it does in Jira.
func splitMacros(src string) []segment {
	var toks []macroToken
	for _, m := range macroRe.FindAllStringSubmatchIndex(src, -1) {
		if escapedAt(src, m[0]) || m[0] > 0 && src[m[0]-1] == '{' {
			// Escaped, or the inside of {{monospace}}.
			continue
		}
		t := macroToken{name: src[m[2]:m[3]], start: m[0], end: m[1]}
		if m[4] >= 0 {
			t.params = src[m[4]:m[5]]
		}
		toks = append(toks, t)
	}
	type item struct {
		seg        segment
		start, end int
	}
	var items []item
	quotes := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.name == "quote" {
			items = append(items, item{segment{kind: segQuoteOpen}, t.start, t.end})
			quotes++
			continue
		}
		j := i + 1
		for j < len(toks) && toks[j].name != t.name {
			j++
		}
		if j == len(toks) {
			continue
		}
		seg := segment{kind: segCode, text: trimOneNewline(src[t.end:toks[j].start]), lang: codeLanguage(t.params)}
		if t.name == "noformat" {
			seg.kind, seg.lang = segNoformat, ""
		}
		items = append(items, item{seg, t.start, toks[j].end})
		i = j
	}
	if quotes%2 == 1 {
		// The last {quote} has no partner: leave it literal.
		for i := len(items) - 1; i >= 0; i-- {
			if items[i].seg.kind == segQuoteOpen {
				items = append(items[:i], items[i+1:]...)
				break
			}
		}
	}
	var segs []segment
	pos := 0
	open := false
	for _, it := range items {
		segs = append(segs, segment{kind: segText, text: src[pos:it.start]})
		if it.seg.kind == segQuoteOpen && open {
			it.seg.kind = segQuoteClose
		}
		if it.seg.kind == segQuoteOpen || it.seg.kind == segQuoteClose {
			open = !open
		}
		segs = append(segs, it.seg)
		pos = it.end
	}
	segs = append(segs, segment{kind: segText, text: src[pos:]})
	trimQuoteEdges(segs)
	return segs
}

// trimQuoteEdges drops the line break right inside {quote} tags: it only
// puts the tag on its own line and would show as an empty quoted line.
func trimQuoteEdges(segs []segment) {
	for i := range segs {
		if segs[i].kind != segText {
			continue
		}
		if i > 0 && segs[i-1].kind == segQuoteOpen {
			segs[i].text = strings.TrimPrefix(segs[i].text, "\n")
		}
		if i+1 < len(segs) && segs[i+1].kind == segQuoteClose {
			segs[i].text = strings.TrimSuffix(segs[i].text, "\n")
		}
	}
}

// escapedAt reports whether the character at i is preceded by an odd number
// of backslashes ("\\" is a line break, not an escape).
func escapedAt(s string, i int) bool {
	n := 0
	for i-n-1 >= 0 && s[i-n-1] == '\\' {
		n++
	}
	return n%2 == 1
}

func trimOneNewline(s string) string {
	s = strings.TrimPrefix(s, "\n")
	return strings.TrimSuffix(s, "\n")
}

// codeLanguage picks the language from {code:java} or
// {code:title=x|language=java}, keeping only characters safe in a class name.
func codeLanguage(params string) string {
	lang := ""
	for _, p := range strings.Split(params, "|") {
		k, v, ok := strings.Cut(p, "=")
		if !ok && lang == "" {
			lang = k
		} else if ok && strings.TrimSpace(k) == "language" {
			lang = v
		}
	}
	lang = strings.ToLower(strings.TrimSpace(lang))
	for _, r := range lang {
		if !isASCIIAlnum(r) && !strings.ContainsRune("+#_.-", r) {
			return ""
		}
	}
	return lang
}

// renderer holds the state that spans lines.
type renderer struct {
	w       htmlWriter
	mention func(string) string
	// inQuote is set between {quote} macros.
	inQuote bool
	// bqOpen is set while consecutive "bq." lines share one blockquote.
	bqOpen bool
	// counters numbers list items per depth.
	counters []listCounter
}

func (r *renderer) segment(seg segment) {
	switch seg.kind {
	case segText:
		r.lines(seg.text)
	case segCode, segNoformat:
		r.pre(seg)
	case segQuoteOpen:
		r.w.open("blockquote", "<blockquote>")
		r.inQuote = true
	case segQuoteClose:
		r.w.close()
		r.inQuote = false
	}
}

// pre writes a code block. Telegram does not take it inside a blockquote,
// so an open quote is closed around it.
func (r *renderer) pre(seg segment) {
	if r.inQuote {
		r.w.close()
	}
	r.w.open("pre", "<pre>")
	if seg.kind == segCode && seg.lang != "" {
		r.w.open("code", `<code class="language-`+EscapeHTML(seg.lang)+`">`)
		r.w.text(seg.text)
		r.w.close()
	} else {
		r.w.text(seg.text)
	}
	r.w.close()
	if r.inQuote {
		r.w.open("blockquote", "<blockquote>")
	}
}

// lines renders a text segment line by line; a text segment that follows a
// block macro on the same line is treated as starting a line, like Jira's
// block renderer does for macro bodies.
func (r *renderer) lines(text string) {
	if text == "" {
		return
	}
	for i, line := range strings.Split(text, "\n") {
		bq, rest := r.bqLine(line)
		if i > 0 {
			if !(bq && r.bqOpen) {
				r.endBq()
			}
			r.w.text("\n")
		}
		if bq && !r.bqOpen {
			r.w.open("blockquote", "<blockquote>")
			r.bqOpen = true
		}
		if bq {
			r.inline([]rune(rest), false)
			continue
		}
		r.endBq()
		r.line(line)
	}
	r.endBq()
}

var (
	headingRe = regexp.MustCompile(`^\s*h([1-6])\.\s+(.*)$`)
	bqRe      = regexp.MustCompile(`^\s*bq\.\s+(.*)$`)
	hrRe      = regexp.MustCompile(`^\s*-{4,}\s*$`)
	listRe    = regexp.MustCompile(`^\s*([*#]+|-)\s+(.*)$`)
	tableRe   = regexp.MustCompile(`^\s*\|`)
)

// bqLine reports a "bq." line; inside {quote} it is plain text since
// Telegram cannot nest quotes.
func (r *renderer) bqLine(line string) (bool, string) {
	if r.inQuote {
		return false, ""
	}
	m := bqRe.FindStringSubmatch(line)
	if m == nil {
		return false, ""
	}
	return true, m[1]
}

func (r *renderer) endBq() {
	if r.bqOpen {
		r.w.close()
		r.bqOpen = false
	}
}

// line renders one line that is not a "bq." line.
func (r *renderer) line(line string) {
	if m := listRe.FindStringSubmatch(line); m != nil {
		r.listItem(m[1], m[2])
		return
	}
	r.counters = nil
	switch {
	case hrRe.MatchString(line):
		r.w.text(strings.Repeat("—", 10))
	case headingRe.MatchString(line):
		m := headingRe.FindStringSubmatch(line)
		r.w.open("b", "<b>")
		r.inline([]rune(m[2]), false)
		r.w.close()
	case tableRe.MatchString(line):
		r.tableRow(line)
	default:
		r.inline([]rune(line), false)
	}
}

// listItem writes "• x" or "1. x", indented two spaces per nesting level.
func (r *renderer) listItem(markers, content string) {
	depth := len(markers)
	kind := markers[depth-1]
	for len(r.counters) < depth {
		r.counters = append(r.counters, listCounter{})
	}
	r.counters = r.counters[:depth]
	c := &r.counters[depth-1]
	if c.kind != kind {
		// A different list type at this depth starts a new list.
		*c = listCounter{kind: kind}
	}
	c.n++
	bullet := "• "
	if kind == '#' {
		bullet = strconv.Itoa(c.n) + ". "
	}
	r.w.text(strings.Repeat("  ", depth-1) + bullet)
	r.inline([]rune(content), false)
}

// tableRow writes the cells of "||h||h||" or "|c|c|" joined with " | ",
// header cells in bold.
func (r *renderer) tableRow(line string) {
	rs := []rune(strings.TrimLeft(line, " \t"))
	for i, c := range splitCells(rs) {
		if i > 0 {
			r.w.text(" | ")
		}
		if c.header {
			r.w.open("b", "<b>")
		}
		r.inline(c.text, false)
		if c.header {
			r.w.close()
		}
	}
}

type listCounter struct {
	kind byte
	n    int
}

type cell struct {
	text   []rune
	header bool
}

// splitCells splits a table row at "|" that are not escaped and not part of
// a [link|url] or {{monospace}}.
func splitCells(rs []rune) []cell {
	var cells []cell
	i := 0
	for i < len(rs) && rs[i] == '|' {
		header := i+1 < len(rs) && rs[i+1] == '|'
		i++
		if header {
			i++
		}
		start := i
		for i < len(rs) && rs[i] != '|' {
			i = skipCellPart(rs, i)
		}
		text := trimRunes(rs[start:i])
		if len(text) > 0 || i < len(rs) {
			cells = append(cells, cell{text: text, header: header})
		}
	}
	return cells
}

// skipCellPart returns the index after the construct starting at i.
func skipCellPart(rs []rune, i int) int {
	switch {
	case rs[i] == '\\' && i+1 < len(rs):
		return i + 2
	case rs[i] == '[':
		if end, ok := linkEnd(rs, i); ok {
			return end
		}
	case hasRunes(rs, i, "{{"):
		for k := i + 2; k+1 < len(rs); k++ {
			if rs[k] == '}' && rs[k+1] == '}' {
				return k + 2
			}
		}
	}
	return i + 1
}

func trimRunes(rs []rune) []rune {
	for len(rs) > 0 && (rs[0] == ' ' || rs[0] == '\t') {
		rs = rs[1:]
	}
	for len(rs) > 0 && (rs[len(rs)-1] == ' ' || rs[len(rs)-1] == '\t') {
		rs = rs[:len(rs)-1]
	}
	return rs
}
