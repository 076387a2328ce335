package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// entity is a MessageEntity; offsets and lengths count UTF-16 code units.
type entity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
}

// ParseHTML checks s the way the Bot API checks parse_mode=HTML and returns
// the plain text the message will carry (tags removed, entities decoded).
// The error text matches the API's description after "Bad Request: ",
// e.g. `can't parse entities: Unsupported start tag "foo" at byte offset 12`.
//
// It follows Telegram's parser (supported tags, attribute syntax, byte
// offsets), but is stricter about '&': only &lt; &gt; &amp; &quot; and
// numeric references are accepted in text, where Telegram would keep an
// unknown '&' literally. Unescaped '&' in text is almost always a bug.
func ParseHTML(s string) (plain string, err error) {
	plain, _, err = parseHTML(s)
	return plain, err
}

// htmlTags maps supported tags to the entity type they produce.
var htmlTags = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"tg-spoiler": "spoiler", "span": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
}

func parseErr(format string, args ...any) error {
	return fmt.Errorf("can't parse entities: "+format, args...)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// openTag is a start tag waiting for its end tag.
type openTag struct {
	name   string
	arg    string // href, language, emoji id or "expandable"
	offset int    // UTF-16 offset in the plain text where it starts
}

// htmlParser holds the state of one parseHTML run.
type htmlParser struct {
	text     string
	i        int
	out      strings.Builder
	u16      int // UTF-16 length of out
	stack    []openTag
	entities []entity
}

func parseHTML(text string) (string, []entity, error) {
	p := &htmlParser{text: text}
	for p.i < len(text) {
		var err error
		switch {
		case text[p.i] == '&':
			err = p.charRef()
		case text[p.i] == '<' && p.i+1 < len(text) && text[p.i+1] == '/':
			err = p.endTag()
		case text[p.i] == '<':
			err = p.startTag()
		default:
			r, size := utf8.DecodeRuneInString(text[p.i:])
			p.write(r)
			p.i += size
		}
		if err != nil {
			return "", nil, err
		}
	}
	if n := len(p.stack); n > 0 {
		return "", nil, parseErr("Can't find end tag corresponding to start tag %q", p.stack[n-1].name)
	}
	sort.SliceStable(p.entities, func(a, b int) bool {
		ea, eb := p.entities[a], p.entities[b]
		if ea.Offset != eb.Offset {
			return ea.Offset < eb.Offset
		}
		return ea.Length > eb.Length
	})
	return p.out.String(), p.entities, nil
}

func (p *htmlParser) write(r rune) {
	p.out.WriteRune(r)
	if r >= 0x10000 {
		p.u16 += 2
	} else {
		p.u16++
	}
}

func (p *htmlParser) charRef() error {
	r, n, ok := decodeCharRef(p.text[p.i:])
	if !ok {
		return parseErr("Unsupported HTML entity at byte offset %d", p.i)
	}
	p.write(r)
	p.i += n
	return nil
}

// decodeCharRef decodes &lt; &gt; &amp; &quot; &#N; or &#xH; at the start
// of s. As in Telegram's parser the trailing ';' is optional.
func decodeCharRef(s string) (r rune, n int, ok bool) {
	end := 1
	if strings.HasPrefix(s, "&#") {
		end = 2
		base := 10
		if end < len(s) && (s[end] == 'x' || s[end] == 'X') {
			base, end = 16, end+1
		}
		start := end
		for end < len(s) && isDigit(s[end], base) {
			end++
		}
		v, err := strconv.ParseUint(s[start:end], base, 32)
		if err != nil || v == 0 || v > utf8.MaxRune || !utf8.ValidRune(rune(v)) {
			return 0, 0, false
		}
		r = rune(v)
	} else {
		for end < len(s) && isLetter(s[end]) {
			end++
		}
		switch s[1:end] {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "quot":
			r = '"'
		default:
			return 0, 0, false
		}
	}
	if end < len(s) && s[end] == ';' {
		end++
	}
	return r, end, true
}

func isDigit(c byte, base int) bool {
	if c >= '0' && c <= '9' {
		return true
	}
	return base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *htmlParser) skipSpaces() {
	for p.i < len(p.text) && isSpace(p.text[p.i]) {
		p.i++
	}
}

func (p *htmlParser) startTag() error {
	begin := p.i
	p.i++
	nameStart := p.i
	for p.i < len(p.text) && !isSpace(p.text[p.i]) && p.text[p.i] != '>' {
		p.i++
	}
	if p.i >= len(p.text) {
		return parseErr("Unclosed start tag at byte offset %d", begin)
	}
	name := strings.ToLower(p.text[nameStart:p.i])
	if _, ok := htmlTags[name]; !ok {
		return parseErr("Unsupported start tag %q at byte offset %d", name, begin)
	}
	arg, err := p.attributes(name, begin)
	if err != nil {
		return err
	}
	p.i++ // '>'
	switch {
	case name == "span" && arg != "spoiler":
		return parseErr("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
	case name == "tg-emoji":
		if _, err := strconv.ParseInt(arg, 10, 64); err != nil {
			return parseErr("Invalid custom emoji identifier specified")
		}
	}
	p.stack = append(p.stack, openTag{name: name, arg: arg, offset: p.u16})
	return nil
}

// attributes parses the attributes of a start tag up to (not past) '>' and
// returns the one argument that matters for the tag.
func (p *htmlParser) attributes(tag string, begin int) (string, error) {
	arg := ""
	for {
		p.skipSpaces()
		if p.i >= len(p.text) {
			return "", parseErr("Unclosed start tag at byte offset %d", begin)
		}
		if p.text[p.i] == '>' {
			return arg, nil
		}
		attrStart := p.i
		for p.i < len(p.text) && !isSpace(p.text[p.i]) && p.text[p.i] != '=' && p.text[p.i] != '>' {
			p.i++
		}
		attr := strings.ToLower(p.text[attrStart:p.i])
		if attr == "" {
			return "", parseErr("Empty attribute name in the tag %q at byte offset %d", tag, begin)
		}
		p.skipSpaces()
		if p.i >= len(p.text) {
			return "", parseErr("Unclosed start tag at byte offset %d", begin)
		}
		if p.text[p.i] != '=' {
			if tag == "blockquote" && attr == "expandable" {
				arg = "expandable"
				continue
			}
			return "", parseErr("Expected equal sign in declaration of an attribute of the tag %q at byte offset %d", tag, begin)
		}
		p.i++
		p.skipSpaces()
		value, err := p.attributeValue(begin)
		if err != nil {
			return "", err
		}
		arg = tagArgument(tag, attr, value, arg)
	}
}

// attributeValue reads a quoted string (entities decoded, an unknown '&'
// kept as is) or a name token.
func (p *htmlParser) attributeValue(begin int) (string, error) {
	if p.i >= len(p.text) {
		return "", parseErr("Unclosed start tag at byte offset %d", begin)
	}
	quote := p.text[p.i]
	if quote != '"' && quote != '\'' {
		start := p.i
		for p.i < len(p.text) && (isLetter(p.text[p.i]) || isDigit(p.text[p.i], 10) || p.text[p.i] == '.' || p.text[p.i] == '-') {
			p.i++
		}
		if p.i < len(p.text) && !isSpace(p.text[p.i]) && p.text[p.i] != '>' {
			return "", parseErr("Unexpected end of name token at byte offset %d", start)
		}
		return strings.ToLower(p.text[start:p.i]), nil
	}
	p.i++
	var value strings.Builder
	for p.i < len(p.text) && p.text[p.i] != quote {
		if p.text[p.i] == '&' {
			if r, n, ok := decodeCharRef(p.text[p.i:]); ok {
				value.WriteRune(r)
				p.i += n
				continue
			}
		}
		value.WriteByte(p.text[p.i])
		p.i++
	}
	if p.i >= len(p.text) {
		return "", parseErr("Unclosed start tag at byte offset %d", begin)
	}
	p.i++ // closing quote
	return value.String(), nil
}

// tagArgument keeps the attribute value that matters for tag, if attr is it.
func tagArgument(tag, attr, value, current string) string {
	switch {
	case tag == "a" && attr == "href":
		return value
	case tag == "code" && attr == "class" && strings.HasPrefix(value, "language-"):
		return strings.TrimPrefix(value, "language-")
	case tag == "span" && attr == "class" && strings.HasPrefix(value, "tg-"):
		return strings.TrimPrefix(value, "tg-")
	case tag == "tg-emoji" && attr == "emoji-id":
		return value
	}
	return current
}

func (p *htmlParser) endTag() error {
	begin := p.i
	if len(p.stack) == 0 {
		return parseErr("Unexpected end tag at byte offset %d", begin)
	}
	p.i += 2
	nameStart := p.i
	for p.i < len(p.text) && !isSpace(p.text[p.i]) && p.text[p.i] != '>' {
		p.i++
	}
	name := strings.ToLower(p.text[nameStart:p.i])
	p.skipSpaces()
	if p.i >= len(p.text) || p.text[p.i] != '>' {
		return parseErr("Unclosed end tag at byte offset %d", begin)
	}
	p.i++
	top := p.stack[len(p.stack)-1]
	if name != "" && name != top.name {
		return parseErr("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, name)
	}
	p.stack = p.stack[:len(p.stack)-1]
	p.addEntity(top)
	return nil
}

// addEntity records the entity for a closed tag. Empty ranges produce none,
// and a code block spanning a whole pre block gives the pre its language.
func (p *htmlParser) addEntity(t openTag) {
	length := p.u16 - t.offset
	if length == 0 {
		return
	}
	e := entity{Type: htmlTags[t.name], Offset: t.offset, Length: length}
	switch t.name {
	case "a":
		if t.arg == "" {
			return
		}
		e.URL = t.arg
	case "code":
		e.Language = t.arg
	case "blockquote":
		if t.arg == "expandable" {
			e.Type = "expandable_blockquote"
		}
	case "tg-emoji":
		e.CustomEmojiID = t.arg
	case "pre":
		if n := len(p.entities); n > 0 {
			last := p.entities[n-1]
			if last.Type == "code" && last.Offset == e.Offset && last.Length == e.Length {
				e.Language = last.Language
				p.entities = p.entities[:n-1]
			}
		}
	}
	if e.Type == "code" && e.Language != "" && !p.inside("pre") {
		e.Language = "" // a language only means something inside pre
	}
	p.entities = append(p.entities, e)
}

func (p *htmlParser) inside(tag string) bool {
	for _, t := range p.stack {
		if t.name == tag {
			return true
		}
	}
	return false
}
