package telegram

import "strings"

// StripTags turns jtbot's HTML back into plain text, for the fallback send
// and for texts that cannot carry markup (callback alerts).
func StripTags(html string) string {
	var sb strings.Builder
	inTag := false
	for _, r := range html {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			sb.WriteRune(r)
		}
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", "\"", "&amp;", "&").Replace(sb.String())
}
