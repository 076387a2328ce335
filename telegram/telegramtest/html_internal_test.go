package telegramtest

import (
	"reflect"
	"testing"
)

func TestParseHTMLEntities(t *testing.T) {
	tests := []struct {
		in   string
		want []entity
	}{
		// Offsets count UTF-16 units: the emoji takes two.
		{"😀<b>x</b>", []entity{{Type: "bold", Offset: 2, Length: 1}}},
		{`<a href="https://x.y">a</a><b></b>`, []entity{{Type: "text_link", Offset: 0, Length: 1, URL: "https://x.y"}}},
		{`<pre><code class="language-go">go</code></pre>`, []entity{{Type: "pre", Offset: 0, Length: 2, Language: "go"}}},
		{`<code class="language-go">c</code>`, []entity{{Type: "code", Offset: 0, Length: 1}}},
		{"<b>a<i>b</i></b>", []entity{{Type: "bold", Offset: 0, Length: 2}, {Type: "italic", Offset: 1, Length: 1}}},
		{"<blockquote expandable>q</blockquote>", []entity{{Type: "expandable_blockquote", Offset: 0, Length: 1}}},
	}
	for _, tt := range tests {
		_, got, err := parseHTML(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseHTML(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
