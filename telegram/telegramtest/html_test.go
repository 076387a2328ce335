package telegramtest_test

import (
	"testing"

	"github.com/jtbot/jtbot/telegram/telegramtest"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name, in, plain, err string
	}{
		{name: "plain", in: "just text", plain: "just text"},
		{name: "basic tags", in: "<b>bold</b> <strong>s</strong> <i>i</i><em>e</em> <u>u</u><ins>n</ins> <s>s</s><strike>k</strike><del>d</del>", plain: "bold s ie un skd"},
		{name: "upper-case tag", in: "<B>up</B>", plain: "up"},
		{name: "entities", in: "&lt;tag&gt; &amp; &quot;q&quot; &#65;&#x42;&#X43;", plain: `<tag> & "q" ABC`},
		{name: "link", in: `<a href="https://jira.example/browse/PROJ-1?a=1&amp;b=2">PROJ-1</a>`, plain: "PROJ-1"},
		{name: "single-quoted link", in: `<a href='https://x.y'>x</a>`, plain: "x"},
		{name: "spoilers", in: `<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>`, plain: "ab"},
		{name: "pre with language", in: `<pre><code class="language-go">x := 1 &lt; 2</code></pre>`, plain: "x := 1 < 2"},
		{name: "blockquotes", in: "<blockquote>q</blockquote><blockquote expandable>long</blockquote>", plain: "qlong"},
		{name: "custom emoji", in: `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, plain: "👍"},
		{name: "nested", in: "<b>a <i>b <u>c</u></i></b>", plain: "a b c"},
		{name: "short end tag", in: "<b>x</>", plain: "x"},
		{name: "newlines kept", in: "line1\n<b>line2</b>", plain: "line1\nline2"},

		{name: "unsupported tag", in: "PROJ-1 done <foo>x</foo>", err: `can't parse entities: Unsupported start tag "foo" at byte offset 12`},
		{name: "br is unsupported", in: "a<br>b", err: `can't parse entities: Unsupported start tag "br" at byte offset 1`},
		{name: "unclosed", in: "<b>open", err: `can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{name: "unexpected end", in: "closed</b>", err: `can't parse entities: Unexpected end tag at byte offset 6`},
		{name: "crossed", in: "<b><i>x</b></i>", err: `can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{name: "bare less-than", in: "a < b", err: `can't parse entities: Unsupported start tag "" at byte offset 2`},
		{name: "bare ampersand", in: "Tom & Jerry", err: `can't parse entities: Unsupported HTML entity at byte offset 4`},
		{name: "unknown entity", in: "&nbsp;", err: `can't parse entities: Unsupported HTML entity at byte offset 0`},
		{name: "unclosed start tag", in: "x <b", err: `can't parse entities: Unclosed start tag at byte offset 2`},
		{name: "unclosed end tag", in: "<b>x</b", err: `can't parse entities: Unclosed end tag at byte offset 4`},
		{name: "span without class", in: "<span>x</span>", err: `can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{name: "attribute without value", in: "<a href>x</a>", err: `can't parse entities: Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0`},
		{name: "bad emoji id", in: `<tg-emoji emoji-id="x">y</tg-emoji>`, err: `can't parse entities: Invalid custom emoji identifier specified`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := telegramtest.ParseHTML(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("ParseHTML(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || plain != tt.plain {
				t.Fatalf("ParseHTML(%q) = %q, %v; want %q", tt.in, plain, err, tt.plain)
			}
		})
	}
}
