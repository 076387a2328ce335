package markup

import "strings"

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// EscapeHTML escapes &, <, > and " for Telegram HTML. Quotes are escaped
// everywhere so the result is safe in attributes too.
func EscapeHTML(s string) string {
	return htmlEscaper.Replace(s)
}

// htmlWriter builds Telegram HTML that is well formed by construction: tags
// are opened lazily, only when text is written inside them (so no empty
// elements), closed in stack order, and a tag already open is not nested
// again.
type htmlWriter struct {
	b     strings.Builder
	stack []openTag
}

type openTag struct {
	name    string
	tag     string
	written bool
	dup     bool
}

func (w *htmlWriter) open(name, tag string) {
	w.stack = append(w.stack, openTag{name: name, tag: tag, dup: w.isOpen(name)})
}

func (w *htmlWriter) isOpen(name string) bool {
	for _, t := range w.stack {
		if t.name == name {
			return true
		}
	}
	return false
}

func (w *htmlWriter) close() {
	if len(w.stack) == 0 {
		return
	}
	t := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if t.written && !t.dup {
		w.b.WriteString("</" + t.name + ">")
	}
}

func (w *htmlWriter) closeAll() {
	for len(w.stack) > 0 {
		w.close()
	}
}

func (w *htmlWriter) text(s string) {
	if s == "" {
		return
	}
	for i := range w.stack {
		t := &w.stack[i]
		if !t.written && !t.dup {
			w.b.WriteString(t.tag)
		}
		t.written = true
	}
	w.b.WriteString(EscapeHTML(s))
}
