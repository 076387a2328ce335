package markup

import (
	"testing"

	tele "gopkg.in/telebot.v3"
)

var fuzzTypes = []string{
	"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre",
	"text_link", "url", "mention", "text_mention", "blockquote",
	"expandable_blockquote", "hashtag", "email",
}

// fuzzEntities turns each 3 bytes of data into an entity: type, offset and
// length, the last two signed so garbage offsets are covered.
func fuzzEntities(data []byte) []tele.MessageEntity {
	var ents []tele.MessageEntity
	for i := 0; i+2 < len(data) && len(ents) < 16; i += 3 {
		e := tele.MessageEntity{
			Type:   tele.EntityType(fuzzTypes[int(data[i])%len(fuzzTypes)]),
			Offset: int(int8(data[i+1])),
			Length: int(int8(data[i+2])),
		}
		switch e.Type {
		case "pre":
			e.Language = []string{"", "go", "brainfuck"}[int(data[i])%3]
		case "text_link":
			e.URL = "https://ex.com/a|b]"
		case "text_mention":
			e.User = &tele.User{ID: 1, Username: "user_1"}
		}
		ents = append(ents, e)
	}
	return ents
}

func FuzzFromTelegram(f *testing.F) {
	f.Add("hello bold world", []byte{0, 6, 4})
	f.Add("👍 *x* y_z", []byte{1, 3, 3, 0, 0, 20})
	f.Add("code\nblock {code}", []byte{6, 0, 17, 11, 0, 10})
	f.Add("h1. [a|b] \\ :) (y)", []byte{7, 0, 9, 3, 250, 200})
	f.Fuzz(func(t *testing.T, text string, data []byte) {
		out := FromTelegram(text, fuzzEntities(data))
		checkSurvives(t, text, out)
		checkRoundTrip(t, text, out)
	})
}

func FuzzToTelegramHTML(f *testing.F) {
	f.Add("*bold* _it_ {{mono}} [l|http://a]")
	f.Add("{quote}\nbq. x\n{code:go}\n<x>\n{code}\n{quote}")
	f.Add("||h||\n|[a|b|c]|\n# one\n** two\n----")
	f.Add("*a _b* c_ \\*x\\\\ {color:red}r{color} !i.png|t!")
	f.Fuzz(func(t *testing.T, src string) {
		out := ToTelegramHTML(src, func(id string) string { return id + "<&>" })
		if err := validateHTML(out); err != nil {
			t.Fatalf("ToTelegramHTML(%q) = %q: %v", src, out, err)
		}
	})
}

func FuzzTruncate(f *testing.F) {
	f.Add("*bold* _it_ 👍 [link|http://a]", 5)
	f.Add("{code:go}\n&<>\n{code}", 2)
	f.Add("plain", 0)
	f.Fuzz(func(t *testing.T, src string, limit int) {
		limit %= 200
		html := ToTelegramHTML(src, nil)
		out := Truncate(html, limit)
		if err := validateHTML(out); err != nil {
			t.Fatalf("Truncate(%q, %d) = %q: %v", html, limit, out, err)
		}
		if n := utf16Count(visibleText(out)); n > max(limit, 0) {
			t.Fatalf("Truncate(%q, %d) = %q: %d visible units", html, limit, out, n)
		}
		if utf16Count(visibleText(html)) <= limit && out != html {
			t.Fatalf("Truncate changed %q that fits in %d: %q", html, limit, out)
		}
		Truncate(src, limit) // arbitrary input must not panic
	})
}
