package wiki

import (
	"strings"
	"unicode"
)

// source is a message text as runes together with what the escaper needs to
// know about the markup that will be written around it.
type source struct {
	rs []rune
	// cut[i] is true when markup may be written right before rune i, so the
	// escaper cannot rely on what the neighbour across it will look like.
	cut []bool
	// strike[i] is true when rune i is inside a strikethrough: a raw "-"
	// there would end the -phrase- early.
	strike []bool
}

func newSource(text string) *source {
	rs := []rune(text)
	s := &source{
		rs:     rs,
		cut:    make([]bool, len(rs)+1),
		strike: make([]bool, len(rs)),
	}
	s.cut[0], s.cut[len(rs)] = true, true
	return s
}

// Escape escapes plain text so Jira's wiki renderer shows it literally.
func Escape(s string) string {
	src := newSource(s)
	var b strings.Builder
	for i := range src.rs {
		b.WriteString(src.escape(i, false))
	}
	return b.String()
}

// escape returns the wiki form of rune i. inLink is set inside the text of a
// [text|url] link, where the link syntax characters need entities because
// the link renderer runs before backslash escapes are resolved.
func (s *source) escape(i int, inLink bool) string {
	c := s.rs[i]
	switch c {
	case '\\':
		if s.harmlessAfterBackslash(i + 1) {
			return `\`
		}
		return "&#92;"
	case '{':
		return "&#123;"
	case '}':
		return "&#125;"
	case '[':
		if inLink {
			return "&#91;"
		}
		return `\[`
	case ']':
		if inLink {
			return "&#93;"
		}
		return `\]`
	case '|':
		if inLink {
			return "&#124;"
		}
		return `\|`
	case '*', '_', '+', '^', '~', '!', '#':
		return `\` + string(c)
	case '-':
		// A hyphen inside a word never strikes and stays readable.
		if s.wordAt(i-1) && s.wordAt(i+1) && !s.cut[i] && !s.cut[i+1] && !s.strike[i] {
			return "-"
		}
		return `\-`
	case '?':
		// Only "??" starts a citation.
		if s.runeAt(i-1) == '?' || s.runeAt(i+1) == '?' {
			return `\?`
		}
	case '(':
		if s.parenEmoticonAt(i) {
			return `\(`
		}
	case ':', ';':
		// The emoticon renderer drops a backslash in front of a face.
		if s.faceEmoticonAt(i) {
			return `\` + string(c)
		}
	case '&':
		if s.entityAt(i) {
			return "&amp;"
		}
	case '.':
		if s.blockDotAt(i) {
			return "&#46;"
		}
	}
	return string(c)
}

// runeAt returns rune i or -1 outside the text.
func (s *source) runeAt(i int) rune {
	if i < 0 || i >= len(s.rs) {
		return -1
	}
	return s.rs[i]
}

func (s *source) wordAt(i int) bool {
	return isWordRune(s.runeAt(i))
}

// isWordRune reports the characters Jira treats as part of a word when it
// checks phrase boundaries (\p{L} and \p{Nd}).
func isWordRune(r rune) bool {
	return r >= 0 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// harmlessAfterBackslash reports whether a raw backslash followed by rune i
// stays literal: Jira only treats "\" specially before another backslash or
// a markup character, and markup written at a cut is unknown here.
func (s *source) harmlessAfterBackslash(i int) bool {
	if i >= len(s.rs) || s.cut[i] {
		return false
	}
	r := s.rs[i]
	return r == ' ' || isWordRune(r)
}

// Jira's default emoticons written with parentheses, e.g. "(y)".
var parenEmoticons = []string{
	"y)", "n)", "i)", "/)", "x)", "!)", "+)", "-)", "?)", "on)", "off)",
	"*)", "*r)", "*g)", "*b)", "*y)", "flag)", "flagoff)",
}

func (s *source) parenEmoticonAt(i int) bool {
	for _, e := range parenEmoticons {
		if s.hasAt(i+1, e) && !s.wordAfter(i+1+len([]rune(e))) {
			return true
		}
	}
	return false
}

// faceEmoticonAt reports whether ":)", ":(", ":P", ":D" or ";)" starts at i.
func (s *source) faceEmoticonAt(i int) bool {
	if s.cut[i+1] {
		return false
	}
	faces := "()PD"
	if s.rs[i] == ';' {
		faces = ")"
	}
	next := s.runeAt(i + 1)
	return next >= 0 && strings.ContainsRune(faces, next) && !s.wordAfter(i+2)
}

// wordAfter reports whether a word character may follow at i; unknown
// markup at a cut counts as one to stay on the safe side.
func (s *source) wordAfter(i int) bool {
	if i >= len(s.rs) {
		return false
	}
	return s.cut[i] || isWordRune(s.rs[i])
}

func (s *source) hasAt(i int, want string) bool {
	for _, r := range want {
		if s.runeAt(i) != r {
			return false
		}
		i++
	}
	return true
}

// entityAt reports whether "&" at i starts something Jira would read as an
// HTML entity ("&amp;", "&#92;").
func (s *source) entityAt(i int) bool {
	j := i + 1
	if s.runeAt(j) == '#' {
		j++
	}
	start := j
	for j < len(s.rs) && j-start < 32 && isASCIIAlnum(s.rs[j]) {
		j++
	}
	return j > start && s.runeAt(j) == ';'
}

func isASCIIAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// blockDotAt reports whether the "." at i completes a line-leading "h1."…"h6."
// or "bq.", which would turn the line into a heading or a quote.
func (s *source) blockDotAt(i int) bool {
	if i < 2 {
		return false
	}
	a, b := s.rs[i-2], s.rs[i-1]
	if !(a == 'h' && b >= '1' && b <= '6') && !(a == 'b' && b == 'q') {
		return false
	}
	return s.lineStartBefore(i - 2)
}

// lineStartBefore reports whether only blanks separate position i from the
// start of its line (or from a cut, where a block may have ended).
func (s *source) lineStartBefore(i int) bool {
	for j := i; ; j-- {
		if s.cut[j] || j == 0 {
			return true
		}
		switch s.rs[j-1] {
		case '\n':
			return true
		case ' ', '\t':
		default:
			return false
		}
	}
}
