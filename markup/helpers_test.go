package markup

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
)

// validateHTML checks that s is HTML Telegram accepts: only its tags, with
// only the attributes it knows, properly nested, and all text escaped.
func validateHTML(s string) error {
	var stack []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '>':
			return fmt.Errorf("raw '>' at %d", i)
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				return fmt.Errorf("raw '&' at %d", i)
			}
			switch s[i : i+end+1] {
			case "&amp;", "&lt;", "&gt;", "&quot;":
			default:
				return fmt.Errorf("unknown entity %q at %d", s[i:i+end+1], i)
			}
			i += end + 1
			continue
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return fmt.Errorf("raw '<' at %d", i)
			}
			var err error
			stack, err = checkTag(stack, s[i:i+end+1])
			if err != nil {
				return fmt.Errorf("at %d: %w", i, err)
			}
			i += end + 1
			continue
		}
		i++
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed tags %v", stack)
	}
	return nil
}

func checkTag(stack []string, tag string) ([]string, error) {
	if name, ok := strings.CutPrefix(tag, "</"); ok {
		name = strings.TrimSuffix(name, ">")
		if len(stack) == 0 || stack[len(stack)-1] != name {
			return nil, fmt.Errorf("closing %q with open %v", tag, stack)
		}
		return stack[:len(stack)-1], nil
	}
	name := ""
	switch {
	case tag == "<b>" || tag == "<i>" || tag == "<u>" || tag == "<s>" ||
		tag == "<code>" || tag == "<pre>" || tag == "<blockquote>":
		name = strings.Trim(tag, "<>")
	case strings.HasPrefix(tag, `<a href="`) && strings.HasSuffix(tag, `">`):
		if err := checkAttr(tag[len(`<a href="`) : len(tag)-2]); err != nil {
			return nil, err
		}
		name = "a"
	case strings.HasPrefix(tag, `<code class="language-`) && strings.HasSuffix(tag, `">`):
		if err := checkAttr(tag[len(`<code class="language-`) : len(tag)-2]); err != nil {
			return nil, err
		}
		name = "code"
	default:
		return nil, fmt.Errorf("tag %q not allowed", tag)
	}
	for _, open := range stack {
		if open == name {
			return nil, fmt.Errorf("%q nested in itself", tag)
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		switch {
		case top == "code":
			return nil, fmt.Errorf("%q inside code", tag)
		case top == "pre" && name != "code":
			return nil, fmt.Errorf("%q inside pre", tag)
		case name == "pre" || name == "blockquote":
			return nil, fmt.Errorf("block %q inside %v", tag, stack)
		}
	}
	return append(stack, name), nil
}

func checkAttr(v string) error {
	if strings.ContainsAny(v, `<>"`) {
		return fmt.Errorf("unescaped attribute %q", v)
	}
	return validateHTML(v)
}

// visibleText returns the text Telegram shows for valid HTML.
func visibleText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			i += strings.IndexByte(s[i:], '>') + 1
			continue
		case '&':
			end := strings.IndexByte(s[i:], ';')
			b.WriteString(map[string]string{"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": `"`}[s[i:i+end+1]])
			i += end + 1
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func utf16Count(s string) int { return len(utf16.Encode([]rune(s))) }

// unwiki undoes the escaping of FromTelegram output: numeric entities,
// &amp;, and backslash escapes Jira resolves, while code blocks stay raw.
// Markup is left in place; callers check that the text survives in order.
func unwiki(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if end := blockEnd(rs, i); end > 0 {
			b.WriteString(string(rs[i:end]))
			i = end - 1
			continue
		}
		switch {
		case rs[i] == '&':
			if r, n := wikiEntity(rs[i:]); n > 0 {
				b.WriteRune(r)
				i += n - 1
				continue
			}
		case rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune(escapable+":;", rs[i+1]):
			b.WriteRune(rs[i+1])
			i++
			continue
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

// blockEnd returns the end of a {code}/{noformat} block starting at i.
func blockEnd(rs []rune, i int) int {
	if rs[i] != '{' {
		return 0
	}
	s := string(rs[i:])
	for _, open := range []string{"{code", "{noformat}"} {
		if !strings.HasPrefix(s, open) {
			continue
		}
		closeTag := "{code}"
		if open == "{noformat}" {
			closeTag = open
		}
		first := strings.IndexByte(s, '}') + 1
		if j := strings.Index(s[first:], closeTag); j >= 0 {
			return i + len([]rune(s[:first+j+len(closeTag)]))
		}
	}
	return 0
}

func wikiEntity(rs []rune) (rune, int) {
	s := string(rs[:min(len(rs), 12)])
	if strings.HasPrefix(s, "&amp;") {
		return '&', 5
	}
	var v, n int
	if _, err := fmt.Sscanf(s, "&#%d;", &v); err == nil {
		n = len(fmt.Sprintf("&#%d;", v))
		if strings.HasPrefix(s, fmt.Sprintf("&#%d;", v)) {
			return rune(v), n
		}
	}
	return 0, 0
}

// checkSurvives fails when a non-space rune of text is missing, in order,
// from the unescaped wiki output.
func checkSurvives(t *testing.T, text, out string) {
	t.Helper()
	got := []rune(unwiki(out))
	j := 0
	for _, r := range text {
		if unicode.IsSpace(r) {
			continue
		}
		for j < len(got) && got[j] != r {
			j++
		}
		if j == len(got) {
			t.Fatalf("rune %q of %q lost in %q", r, text, out)
		}
		j++
	}
}

// checkRoundTrip renders FromTelegram output back with ToTelegramHTML,
// which follows Jira's rules, and checks that the visible text is the
// original text: no marker stayed literal and no character got lost.
// Whitespace may differ, since blocks get their own lines.
func checkRoundTrip(t *testing.T, text, out string) {
	t.Helper()
	html := ToTelegramHTML(out, nil)
	if err := validateHTML(html); err != nil {
		t.Fatalf("invalid HTML %q: %v", html, err)
	}
	got, want := dropSpace(visibleText(html)), dropSpace(string([]rune(text)))
	if got != want {
		t.Fatalf("round trip of %q via %q gives %q", text, out, visibleText(html))
	}
}

func dropSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
