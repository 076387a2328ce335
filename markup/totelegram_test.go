package markup

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func testMention(id string) string {
	switch id {
	case "5b10a2844c20165700ede21g":
		return "Alice <Admin>"
	case "bob":
		return "Bob"
	}
	return ""
}

func TestToTelegramHTML(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"plain", "hello", "hello"},
		{"empty", "", ""},
		{"escaping", `<script>&amp; "q"`, "&lt;script&gt;&amp; &quot;q&quot;"},
		{"entities", "&#92; &#x41; &copy; &lt;b&gt; &ampx; &nosuch; AT&T", `\ A © &lt;b&gt; &amp;ampx; &amp;nosuch; AT&amp;T`},
		{"entity in monospace", "{{&#123;x&#125;}}", "<code>{x}</code>"},
		{"escaped emoticon", `ok \:) \;) \:Done`, `ok :) ;) \:Done`},
		{"bold", "a *bold* b", "a <b>bold</b> b"},
		{"italic", "_it_", "<i>it</i>"},
		{"underline", "+under+", "<u>under</u>"},
		{"strike", "-gone-", "<s>gone</s>"},
		{"citation", "??who??", "<i>who</i>"},
		{"superscript and subscript", "x^2^ H~2~O", "x^2^ H~2~O"},
		{"superscript after space", "e ^x^", "e x"},
		{"monospace", "run {{make <all>}}", "run <code>make &lt;all&gt;</code>"},
		{"monospace keeps markup", "{{*x*}}", "<code>*x*</code>"},
		{"monospace macro name", "{{quote}} {{code}}", "<code>quote</code> <code>code</code>"},
		{"nested", "*bold _both_*", "<b>bold <i>both</i></b>"},
		{"brace form", "a{*}b{*}c", "a<b>b</b>c"},
		{"inside word stays literal", "a*b*c 2*3*4 snake_case_name", "a*b*c 2*3*4 snake_case_name"},
		{"space after marker", "a * not* bold", "a * not* bold"},
		{"unclosed", "*unclosed _mixed* text_", "<b>unclosed _mixed</b> text_"},
		{"crossing", "*a _b* c_", "<b>a _b</b> c_"},
		{"escaped marker", `\*not bold\*`, "*not bold*"},
		{"escaped marker inside bold", `*a\*b*`, "<b>a*b</b>"},
		{"line break", `one\\two`, "one\ntwo"},
		{"phrase across lines is literal", "*a\nb*", "*a\nb*"},
		{"code block", "{code:java}\nint x = 1 < 2;\n{code}", `<pre><code class="language-java">int x = 1 &lt; 2;</code></pre>`},
		{"code block params", "{code:title=A.java|language=Go}\nx\n{code}", `<pre><code class="language-go">x</code></pre>`},
		{"code block no language", "{code}\n*x*\n{code}", "<pre>*x*</pre>"},
		{"code block bad language", `{code:"><b>}x{code}`, "<pre>x</pre>"},
		{"noformat", "{noformat}\nraw *x* {quote}\n{noformat}", "<pre>raw *x* {quote}</pre>"},
		{"inline code macro", "a {code}x{code} b", "a <pre>x</pre> b"},
		{"unclosed code", "{code}\nx", "{code}\nx"},
		{"quote macro", "{quote}\nq *b*\n{quote}\nafter", "<blockquote>q <b>b</b></blockquote>\nafter"},
		{"quote with code", "{quote}\na\n{code}x{code}\nb\n{quote}", "<blockquote>a\n</blockquote><pre>x</pre><blockquote>\nb</blockquote>"},
		{"unclosed quote", "{quote} x", "{quote} x"},
		{"three quotes", "{quote}a{quote}b{quote}", "<blockquote>a</blockquote>b{quote}"},
		{"bq lines", "bq. one\nbq. two\nplain", "<blockquote>one\ntwo</blockquote>\nplain"},
		{"bq inside quote", "{quote}\nbq. x\n{quote}", "<blockquote>bq. x</blockquote>"},
		{"link", "[text|https://ex.com/?a=1&b=2]", `<a href="https://ex.com/?a=1&amp;b=2">text</a>`},
		{"bare link", "[https://ex.com]", `<a href="https://ex.com">https://ex.com</a>`},
		{"link with formatted text", "[*big* deal|http://x.y]", `<a href="http://x.y"><b>big</b> deal</a>`},
		{"mailto link", "[mail me|mailto:a@b.c]", `<a href="mailto:a@b.c">mail me</a>`},
		{"tg link", "[me|tg://user?id=1]", `<a href="tg://user?id=1">me</a>`},
		{"javascript link is text", "[x|javascript:alert(1)]", "x"},
		{"quote in url", `[x|http://a.b/"><b>]`, `<a href="http://a.b/&quot;&gt;&lt;b&gt;">x</a>`},
		{"issue link is text", "[PROJ-1]", "PROJ-1"},
		{"attachment link", "[^file.txt]", "file.txt"},
		{"empty link", "[]", "[]"},
		{"link in table", "|[l|http://a|b]|c|", `<a href="http://a">l</a> | c`},
		{"mention account id", "hi [~accountid:5b10a2844c20165700ede21g]", "hi @Alice &lt;Admin&gt;"},
		{"mention username", "[~bob] and [~unknown]", "@Bob and @unknown"},
		{"mention empty", "[~]", "[~]"},
		{"headings", "h1. Title *x*\nh6. small", "<b>Title x</b>\n<b>small</b>"},
		{"heading needs space", "h1.x", "h1.x"},
		{"bullet list", "* one\n** two\n* three", "• one\n  • two\n• three"},
		{"numbered list", "# a\n# b\n## c\n# d", "1. a\n2. b\n  1. c\n3. d"},
		{"mixed list", "* x\n# a\n# b", "• x\n1. a\n2. b"},
		{"list ends at paragraph", "# a\n\n# b", "1. a\n\n1. b"},
		{"dash list", "- item", "• item"},
		{"rule", "a\n----\nb", "a\n——————————\nb"},
		{"color", "{color:red}red{color} text", "red text"},
		{"other macro literal", "{panel}x{panel}", "{panel}x{panel}"},
		{"image", "see !image.png! and !pic.jpg|thumbnail!", "see [image.png] and [pic.jpg]"},
		{"exclamations are not images", "Wow! That's great!", "Wow! That's great!"},
		{"table", "||h1||h2||\n|c1|c2|", "<b>h1</b> | <b>h2</b>\nc1 | c2"},
		{"emoticons", "done (/) failed (x) (y)", "done ✅ failed ❌ 👍"},
		{"crlf", "a\r\nb", "a\nb"},
		{"garbage", "*_+-{{[[]]}}!!\\{code}{quote}{{", "*_+-<code>[[]]</code>!!{code}{quote}{{"},
		{"stray tags", "</b><i>x</b>", "&lt;/b&gt;&lt;i&gt;x&lt;/b&gt;"},
		{"lone backslash", `a\ b\`, `a\ b\`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToTelegramHTML(tt.src, testMention)
			if got != tt.want {
				t.Errorf("ToTelegramHTML(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
			if err := validateHTML(got); err != nil {
				t.Errorf("invalid HTML %q: %v", got, err)
			}
		})
	}
}

func TestToTelegramHTMLNilMention(t *testing.T) {
	got := ToTelegramHTML("[~accountid:abc]", nil)
	if got != "@abc" {
		t.Errorf("got %q", got)
	}
}

func TestEscapeHTML(t *testing.T) {
	if got := EscapeHTML(`<a href="x">&</a>`); got != "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;" {
		t.Errorf("got %q", got)
	}
}

func TestValidatorRejects(t *testing.T) {
	for _, bad := range []string{
		"<b>x", "x</b>", "<b><i>x</b></i>", "<script>", "a < b", "a & b", "&nbsp;",
		`<a href="x"><a href="y">z</a></a>`, "<code><b>x</b></code>", "<b><pre>x</pre></b>",
		"<b><b>x</b></b>", `<a href="x"y">z</a>`,
	} {
		if validateHTML(bad) == nil {
			t.Errorf("validator accepted %q", bad)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name  string
		html  string
		limit int
		want  string
	}{
		{"fits", "<b>abc</b>", 3, "<b>abc</b>"},
		{"cut inside tag", "<b>abcdef</b>", 4, "<b>abc…</b>"},
		{"nested", "<b>ab<i>cdef</i></b>gh", 5, "<b>ab<i>cd…</i></b>"},
		{"entities count once", "&lt;&lt;&lt;&lt;", 3, "&lt;&lt;…"},
		{"emoji counts two", "👍👍👍", 4, "👍…"},
		{"emoji not split", "a👍b", 3, "a…"},
		{"link kept valid", `<a href="http://x">link text</a>`, 3, `<a href="http://x">li…</a>`},
		{"pre code", `<pre><code class="language-go">code</code></pre>`, 2, `<pre><code class="language-go">c…</code></pre>`},
		{"limit one", "abc", 1, "…"},
		{"limit zero", "abc", 0, ""},
		{"negative limit", "abc", -3, ""},
		{"empty", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.html, tt.limit)
			if got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.html, tt.limit, got, tt.want)
			}
			if err := validateHTML(got); err != nil {
				t.Errorf("invalid HTML %q: %v", got, err)
			}
		})
	}
}

func TestTruncateLong(t *testing.T) {
	src := strings.Repeat("*bold* _it_ [link|https://ex.com] 👍 & text\n", 500)
	html := ToTelegramHTML(src, nil)
	got := Truncate(html, 4096)
	if n := utf16Count(visibleText(got)); n > 4096 {
		t.Errorf("visible length %d > 4096", n)
	}
	if err := validateHTML(got); err != nil {
		t.Error(err)
	}
}

// TestToTelegramHTMLRandom renders many inputs built from wiki syntax
// pieces and checks that the HTML, also truncated, stays valid.
func TestToTelegramHTMLRandom(t *testing.T) {
	pieces := []string{
		"*", "_", "+", "-", "??", "^", "~", "{{", "}}", "{*}", "{_}", "{code}", "{code:go}",
		"{noformat}", "{quote}", "{color:red}", "{color}", "[", "]", "|", "||", "[~bob]",
		"http://x.y", "mailto:a@b", "h1. ", "bq. ", "# ", "* ", "** ", "----", "\n", "\\",
		"\\\\", "!", "a", "b ", " ", "1", "&amp;", "&#92;", ":)", "(y)", "<", ">", "\"", "👍", "\t",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		src := b.String()
		out := ToTelegramHTML(src, testMention)
		if err := validateHTML(out); err != nil {
			t.Fatalf("ToTelegramHTML(%q) = %q: %v", src, out, err)
		}
		limit := rng.IntN(40)
		cut := Truncate(out, limit)
		if err := validateHTML(cut); err != nil {
			t.Fatalf("Truncate(%q, %d) = %q: %v", out, limit, cut, err)
		}
		if n := utf16Count(visibleText(cut)); n > limit {
			t.Fatalf("Truncate(%q, %d) = %q: %d units", out, limit, cut, n)
		}
	}
}
