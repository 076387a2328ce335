package markup

import (
	"strconv"
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
	w := &wikiWriter{src: newSource(s)}
	w.text(0, len(w.src.rs))
	return w.String()
}

// escape returns the wiki form of rune i. inLink is set inside the text of a
// [text|url] link, where the link syntax characters need entities because
// the link renderer runs before backslash escapes are resolved. inPhrase is
// set inside *bold* and the like, whose content Jira only accepts when made
// of letters, digits, separators, symbols, marks and punctuation; anything
// else (a tab, a zero-width joiner in an emoji, "²") is written as an entity.
func (s *source) escape(i int, inLink, inPhrase bool) string {
	c := s.rs[i]
	if inPhrase && c != '\n' && !phraseRune(c) {
		return "&#" + strconv.Itoa(int(c)) + ";"
	}
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

// phraseRune reports the characters Jira allows inside a phrase.
func phraseRune(r rune) bool {
	return unicode.In(r, unicode.L, unicode.Nd, unicode.Z, unicode.S, unicode.M, unicode.P)
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

// unencodable reports whether runes [from, to) hold a character that can
// neither appear in a phrase nor be written as an entity there: browsers
// read &#0; and &#128;…&#159; as other characters.
func (s *source) unencodable(from, to int) bool {
	for _, r := range s.rs[from:to] {
		if r == 0 || r >= 0x80 && r <= 0x9f {
			return true
		}
	}
	return false
}

// Jira's default emoticons written with parentheses, e.g. "(y)".
var parenEmoticons = []string{
	"y)", "n)", "i)", "/)", "x)", "!)", "+)", "-)", "?)", "on)", "off)",
	"*)", "*r)", "*g)", "*b)", "*y)", "flag)", "flagoff)",
}

// protectEmoticons escapes the emoticons Jira would draw as icons. It runs
// on the finished output because markers can complete one ("(" + "*" + ")"
// is a star) and a letter after it prevents one. lit marks the runes that
// come from the message text; only those are escaped.
func protectEmoticons(out []rune, lit []bool) string {
	paren := make([]bool, len(out))
	for i, r := range out {
		paren[i] = lit[i] && r == '(' && parenEmoticonAt(out, i)
	}
	var b strings.Builder
	afterEntity := false // the output so far ends with an entity's ";"
	for i, r := range out {
		escape := paren[i] || lit[i] && faceAt(out, i) && !(i+1 < len(out) && paren[i+1])
		// An entity followed by ")" reads as ";)"; "\)" becomes "&#41;",
		// which ends with ";" again.
		escape = escape || afterEntity && lit[i] && r == ')' && !(i+1 < len(out) && isWordRune(out[i+1]))
		if escape {
			// "\(" and "\)" are plain backslash escapes; "\:)" is undone by
			// the emoticon renderer itself.
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		afterEntity = r == ';' && !lit[i] || escape && r == ')'
	}
	return b.String()
}

func parenEmoticonAt(out []rune, i int) bool {
	for _, e := range parenEmoticons {
		end := i + 1 + len([]rune(e))
		if hasRunes(out, i+1, e) && !(end < len(out) && isWordRune(out[end])) {
			return true
		}
	}
	return false
}

// faceAt reports ":)", ":(", ":P", ":D" or ";)" at i.
func faceAt(out []rune, i int) bool {
	if i+1 >= len(out) || i+2 < len(out) && isWordRune(out[i+2]) {
		return false
	}
	switch out[i] {
	case ':':
		return strings.ContainsRune("()PD", out[i+1])
	case ';':
		return out[i+1] == ')'
	}
	return false
}
