package markup

import (
	"math/rand/v2"
	"testing"

	tele "gopkg.in/telebot.v3"
)

func ent(typ string, offset, length int) tele.MessageEntity {
	return tele.MessageEntity{Type: tele.EntityType(typ), Offset: offset, Length: length}
}

func TestFromTelegram(t *testing.T) {
	tests := []struct {
		name string
		text string
		ents []tele.MessageEntity
		want string
	}{
		{"plain", "hello world", nil, "hello world"},
		{"bold", "hello bold world", []tele.MessageEntity{ent("bold", 6, 4)}, "hello *bold* world"},
		{"italic", "an italic word", []tele.MessageEntity{ent("italic", 3, 6)}, "an _italic_ word"},
		{"underline", "an under word", []tele.MessageEntity{ent("underline", 3, 5)}, "an +under+ word"},
		{"strikethrough", "a gone word", []tele.MessageEntity{ent("strikethrough", 2, 4)}, "a -gone- word"},
		{"strike keeps inner hyphens escaped", "well-known", []tele.MessageEntity{ent("strikethrough", 0, 10)}, `-well\-known-`},
		{"spoiler is plain", "the spoiler here", []tele.MessageEntity{ent("spoiler", 4, 7)}, "the spoiler here"},
		{"code", "run make now", []tele.MessageEntity{ent("code", 4, 4)}, "run {{make}} now"},
		{"code content escaped", "x a*b{c} y", []tele.MessageEntity{ent("code", 2, 6)}, `x {{a\*b&#123;c&#125;}} y`},
		{"pre with language", "see:\nfunc main() {}\nok", []tele.MessageEntity{{Type: "pre", Offset: 5, Length: 14, Language: "go"}},
			"see:\n{code:go}\nfunc main() {}\n{code}\nok"},
		{"pre language alias", "x = {'*': 1}", []tele.MessageEntity{{Type: "pre", Offset: 0, Length: 12, Language: "py"}},
			"{code:python}\nx = {'*': 1}\n{code}"},
		{"pre unknown language", "a_b", []tele.MessageEntity{{Type: "pre", Offset: 0, Length: 3, Language: "brainfuck"}},
			"{code}\na_b\n{code}"},
		{"pre without language", "text *raw*", []tele.MessageEntity{ent("pre", 5, 5)}, "text \n{noformat}\n*raw*\n{noformat}"},
		{"pre containing code tag", "{code}", []tele.MessageEntity{{Type: "pre", Offset: 0, Length: 6, Language: "go"}},
			"{noformat}\n{code}\n{noformat}"},
		{"blockquote", "quote me\nplease\nafter", []tele.MessageEntity{ent("blockquote", 0, 15)},
			"{quote}\nquote me\nplease\n{quote}\nafter"},
		{"expandable blockquote", "intro\nhidden", []tele.MessageEntity{ent("expandable_blockquote", 6, 6)},
			"intro\n{quote}\nhidden\n{quote}"},
		{"bold inside blockquote", "q bold", []tele.MessageEntity{ent("blockquote", 0, 6), ent("bold", 2, 4)},
			"{quote}\nq *bold*\n{quote}"},
		{"text_link", "see link here", []tele.MessageEntity{{Type: "text_link", Offset: 4, Length: 4, URL: "https://ex.com/a"}},
			"see [link|https://ex.com/a] here"},
		{"text_link url needing encoding", "x", []tele.MessageEntity{{Type: "text_link", Offset: 0, Length: 1, URL: "https://ex.com/a|b]c d"}},
			"[x|https://ex.com/a%7Cb%5Dc%20d]"},
		{"text_link text with link chars", "[a|b]", []tele.MessageEntity{{Type: "text_link", Offset: 0, Length: 5, URL: "https://ex.com"}},
			"[&#91;a&#124;b&#93;|https://ex.com]"},
		{"text_link tg scheme is plain", "me", []tele.MessageEntity{{Type: "text_link", Offset: 0, Length: 2, URL: "tg://user?id=1"}}, "me"},
		{"bold link", "go here", []tele.MessageEntity{ent("bold", 3, 4), {Type: "text_link", Offset: 3, Length: 4, URL: "http://a.b"}},
			"go *[here|http://a.b]*"},
		{"url", "at https://x.com/a_b ok", []tele.MessageEntity{ent("url", 3, 17)}, "at [https://x.com/a_b] ok"},
		{"url without scheme", "at x.com ok", []tele.MessageEntity{ent("url", 3, 5)}, "at [x.com|http://x.com] ok"},
		{"url with brackets stays text", "x.com/[a]", []tele.MessageEntity{ent("url", 0, 9)}, `x.com/\[a\]`},
		{"mention", "hi @john_doe!", []tele.MessageEntity{ent("mention", 3, 9)}, `hi [@john\_doe|https://t.me/john_doe]\!`},
		{"text_mention with username", "hi John", []tele.MessageEntity{{Type: "text_mention", Offset: 3, Length: 4, User: &tele.User{ID: 7, Username: "jd"}}},
			"hi [John|https://t.me/jd]"},
		{"text_mention without username", "hi John", []tele.MessageEntity{{Type: "text_mention", Offset: 3, Length: 4, User: &tele.User{ID: 7}}},
			"hi John"},
		{"hashtag cashtag command email phone", "#tag $USD /start a@b.c +123",
			[]tele.MessageEntity{ent("hashtag", 0, 4), ent("cashtag", 5, 4), ent("bot_command", 10, 6), ent("email", 17, 5), ent("phone_number", 23, 4)},
			`\#tag $USD /start a@b.c \+123`},
		{"nested bold in italic", "bold italic", []tele.MessageEntity{ent("italic", 0, 11), ent("bold", 0, 4)}, "_*bold* italic_"},
		{"same range", "both", []tele.MessageEntity{ent("bold", 0, 4), ent("italic", 0, 4)}, "*_both_*"},
		{"adjacent", "ab", []tele.MessageEntity{ent("bold", 0, 1), ent("italic", 1, 1)}, "*a{*}{_}b_"},
		{"adjacent with space", "a b", []tele.MessageEntity{ent("bold", 0, 1), ent("italic", 2, 1)}, "*a* _b_"},
		{"overlapping start", "ab cd ef", []tele.MessageEntity{ent("bold", 0, 5), ent("italic", 3, 5)}, "*ab _cd_* _ef_"},
		{"same phrase nested", "abc", []tele.MessageEntity{ent("bold", 0, 3), ent("bold", 1, 1)}, "*abc*"},
		{"inside a word", "abcdef", []tele.MessageEntity{ent("bold", 2, 2)}, "ab{*}cd{*}ef"},
		{"after punctuation", "(bold)", []tele.MessageEntity{ent("bold", 1, 4)}, "(*bold*)"},
		{"edge whitespace moved out", "x  spaced  y", []tele.MessageEntity{ent("bold", 1, 10)}, "x  *spaced*  y"},
		{"whitespace only entity", "a   b", []tele.MessageEntity{ent("bold", 1, 3)}, "a   b"},
		{"entity over lines", "line one\nline two", []tele.MessageEntity{ent("bold", 0, 17)}, "*line one*\n*line two*"},
		{"emoji before entity", "👍 x y", []tele.MessageEntity{ent("bold", 3, 1)}, "👍 *x* y"},
		{"emoji inside entity", "a 👍b c", []tele.MessageEntity{ent("italic", 2, 3)}, "a _👍b_ c"},
		{"entity splitting a surrogate pair", "👍👍", []tele.MessageEntity{ent("bold", 1, 2)}, "*👍👍*"},
		{"emoji then word inside", "é😀 word x", []tele.MessageEntity{ent("underline", 4, 4)}, "é😀 +word+ x"},
		{"garbage offsets", "x", []tele.MessageEntity{ent("bold", -5, 100), ent("italic", 1000, 4), ent("underline", 0, -1)}, "*x*"},
		{"huge length", "abc", []tele.MessageEntity{ent("bold", 1, int(^uint(0)>>1))}, "a{*}bc*"},
		{"unknown entity type", "abc", []tele.MessageEntity{ent("custom_emoji", 0, 3), ent("weird", 0, 1)}, "abc"},
		{"special chars", "a*b_c [d] {e} | ! # ^ ~ + x-y -- ?? ? = 5%",
			nil, `a\*b\_c \[d\] &#123;e&#125; \| \! \# \^ \~ \+ x-y \-\- \?\? ? = 5%`},
		{"backslashes", `C:\dir\ \*x\`, nil, `C:\dir\ &#92;\*x&#92;`},
		{"line starts", "h1. title\n# item\n* item\n- item\n  bq. q\n----\n|a|",
			nil, "h1&#46; title\n\\# item\n\\* item\n\\- item\n  bq&#46; q\n\\-\\-\\-\\-\n\\|a\\|"},
		{"emoticons", "ok :) wink;) (y) :Done (yes)", nil, `ok \:) wink\;) \(y) :Done (yes)`},
		{"marker completes an emoticon", "() x", []tele.MessageEntity{ent("bold", 1, 3)}, `\(*) x*`},
		{"marker ends a face", ":)x", []tele.MessageEntity{ent("bold", 2, 1)}, `\:)*x*`},
		{"face before a letter", ":)x", nil, ":)x"},
		{"entity before paren", `\) \)b`, nil, `&#92;\) &#92;)b`},
		{"entity-like text", "&amp; & x", nil, "&amp;amp; & x"},
		{"newlines kept", "a\n\nb\n", nil, "a\n\nb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromTelegram(tt.text, tt.ents)
			if got != tt.want {
				t.Errorf("FromTelegram(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
			checkSurvives(t, tt.text, got)
			checkRoundTrip(t, tt.text, got)
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"*not bold*", `\*not bold\*`},
		{"{code}", "&#123;code&#125;"},
		{"h2. x", "h2&#46; x"},
		{"end\\", "end&#92;"},
		{"a\\b", `a\b`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		checkSurvives(t, tt.in, Escape(tt.in))
		checkRoundTrip(t, tt.in, Escape(tt.in))
	}
}

func TestUTF16Range(t *testing.T) {
	x := newUTF16Index([]rune("a👍b"))
	tests := []struct{ off, n, start, end int }{
		{0, 1, 0, 1},
		{1, 2, 1, 2},
		{2, 1, 1, 2}, // starts inside the pair
		{1, 1, 1, 2}, // ends inside the pair
		{3, 1, 2, 3},
		{3, 99, 2, 3},
		{4, 1, 0, 0},
		{-1, 2, 0, 1},
		{0, 0, 0, 0},
	}
	for _, tt := range tests {
		s, e := x.runeRange(tt.off, tt.n)
		if s != tt.start || e != tt.end {
			t.Errorf("runeRange(%d, %d) = %d, %d; want %d, %d", tt.off, tt.n, s, e, tt.start, tt.end)
		}
	}
}

// TestFromTelegramRandom checks the round trip on many messages built from
// the characters that matter to the wiki syntax, with random entities.
func TestFromTelegramRandom(t *testing.T) {
	alphabet := []rune("ab1 -*_+^~?!#|[]{}()\\:;&.hqyPDx\n\t\r👍é²‍@/\u0085")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		rs := make([]rune, rng.IntN(24))
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		text := string(rs)
		data := make([]byte, 3*rng.IntN(5))
		for i := range data {
			data[i] = byte(rng.IntN(30))
		}
		out := FromTelegram(text, fuzzEntities(data))
		checkSurvives(t, text, out)
		checkRoundTrip(t, text, out)
	}
}
