package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
)

const (
	searchPageSize = 10
	maxSearchPage  = 100
	maxJQL         = 1000
	// searchHead starts a result message; the JQL follows it on the first
	// line, so the page buttons need no state of their own.
	searchHead = "🔎 "
)

func (b *Bot) cmdSearch(ctx context.Context, m *tele.Message, args string) error {
	jql := oneLineJQL(args)
	if jql == "" {
		return b.reply(ctx, m, usage("search")+"\nFor example: /search project = OPS AND status = \"In Progress\"")
	}
	if len(jql) > maxJQL {
		return b.reply(ctx, m, fmt.Sprintf("That query is too long (%d characters at most).", maxJQL))
	}
	return b.sendSearch(ctx, m, jql)
}

func (b *Bot) cmdMy(ctx context.Context, m *tele.Message, _ string) error {
	id, ok := connectedID(ctx)
	if !ok {
		return b.reply(ctx, m, connectHint+" — then /my lists your issues.")
	}
	jql := fmt.Sprintf(`assignee = "%s" AND resolution = Unresolved ORDER BY updated DESC`, strings.ReplaceAll(id, `"`, `\"`))
	return b.sendSearch(ctx, m, jql)
}

func oneLineJQL(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (b *Bot) sendSearch(ctx context.Context, m *tele.Message, jql string) error {
	sc, err := b.scopeOf(ctx, m.Chat, m.Sender)
	if err != nil {
		return err
	}
	if len(sc.projects) == 0 && !sc.jira {
		return b.reply(ctx, m, "You have no projects to search: ask to be added to a linked chat, or set JIRA_PROJECT.")
	}
	text, kb, err := b.searchPage(ctx, sc, jql, 0)
	if err != nil {
		return b.failed(ctx, m, err, "")
	}
	_, err = b.replyWith(ctx, m, text, kb)
	return err
}

// searchPage renders one page of results with its page buttons.
// The user's JQL is narrowed to the scope's projects so that pages are
// full, and every hit is checked again: the text cannot be trusted to
// keep to the narrowing ("x) OR (project = HR" closes its parenthesis).
func (b *Bot) searchPage(ctx context.Context, sc scope, jql string, page int) (string, *tele.ReplyMarkup, error) {
	q := jql // a connected person's own permissions scope it
	if !sc.jira {
		q = scopedJQL(sc.projects, jql)
	}
	hits, more, err := b.jc(ctx).SearchPage(ctx, q, page*searchPageSize, searchPageSize)
	if err != nil {
		return "", nil, err
	}
	var found []jira.Card
	for _, is := range hits {
		if sc.showable(is) {
			found = append(found, is)
		}
	}
	lines := []string{searchHead + markup.EscapeHTML(jql)}
	switch {
	case len(found) == 0 && page == 0:
		lines = append(lines, "No issues match.")
	case len(found) == 0:
		lines = append(lines, "No more results.")
	default:
		first := page*searchPageSize + 1
		lines = append(lines, fmt.Sprintf("Results %d–%d:", first, first+len(found)-1))
	}
	for _, is := range found {
		lines = append(lines, b.keyLink(is.Key)+" "+markup.EscapeHTML(shorten(is.Summary, 80))+" · <i>"+markup.EscapeHTML(is.Status)+"</i>")
	}
	var nav []tele.InlineButton
	if page > 0 {
		nav = append(nav, tele.InlineButton{Text: "« Previous", Data: cb(cbSearchPage, strconv.Itoa(page-1))})
	}
	if more && page+1 < maxSearchPage {
		nav = append(nav, tele.InlineButton{Text: "Next »", Data: cb(cbSearchPage, strconv.Itoa(page+1))})
	}
	if len(nav) == 0 {
		return strings.Join(lines, "\n"), nil, nil
	}
	return strings.Join(lines, "\n"), &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{nav}}, nil
}

// searchOf reads the JQL back from a result message's first line.
func searchOf(m *tele.Message) (string, bool) {
	if m == nil {
		return "", false
	}
	first, _, _ := strings.Cut(m.Text, "\n")
	jql, ok := strings.CutPrefix(first, searchHead)
	return jql, ok && jql != ""
}

// scopedJQL limits jql to projects: "project in (…) AND (where) ORDER BY …".
func scopedJQL(projects []string, jql string) string {
	quoted := make([]string, len(projects))
	for i, p := range projects {
		quoted[i] = strconv.Quote(p)
	}
	scoped := "project in (" + strings.Join(quoted, ", ") + ")"
	where, order := splitOrderBy(jql)
	if strings.TrimSpace(where) != "" {
		scoped += " AND (" + where + ")"
	}
	if order != "" {
		scoped += " " + order
	}
	return scoped
}

// splitOrderBy cuts a top-level ORDER BY clause (outside quotes and
// parentheses) off a query.
func splitOrderBy(jql string) (where, order string) {
	depth, quote, cut := 0, rune(0), -1
	lower := asciiLower(jql) // same byte offsets as jql, unlike strings.ToLower
	for i := 0; i < len(jql); i++ {
		c := rune(jql[i])
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(lower[i:], "order") && wordStart(lower, i) && orderByAt(lower[i+5:]):
			cut = i
		}
	}
	if cut < 0 {
		return jql, ""
	}
	return strings.TrimSpace(jql[:cut]), strings.TrimSpace(jql[cut:])
}

func wordStart(s string, i int) bool {
	return i == 0 || strings.ContainsRune(" \t\n)", rune(s[i-1]))
}

// orderByAt reports whether rest (after "order") is " by …".
func orderByAt(rest string) bool {
	trimmed := strings.TrimLeft(rest, " \t\n")
	return len(trimmed) < len(rest) && strings.HasPrefix(trimmed, "by") &&
		(len(trimmed) == 2 || strings.ContainsRune(" \t\n", rune(trimmed[2])))
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
