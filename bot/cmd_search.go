package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tele "gopkg.in/telebot.v3"

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
	id, err := b.connectedID(m.Sender)
	if errors.Is(err, errNotConnected) {
		return b.reply(ctx, m, connectHint+" — then /my lists your issues.")
	}
	if err != nil {
		return err
	}
	jql := fmt.Sprintf(`assignee = "%s" AND resolution = Unresolved ORDER BY updated DESC`, strings.ReplaceAll(id, `"`, `\"`))
	return b.sendSearch(ctx, m, jql)
}

func oneLineJQL(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (b *Bot) sendSearch(ctx context.Context, m *tele.Message, jql string) error {
	text, kb, err := b.searchPage(ctx, jql, 0)
	if err != nil {
		return b.failed(ctx, m, err, "")
	}
	_, err = b.replyWith(ctx, m, text, kb)
	return err
}

// searchPage renders one page of results with its page buttons.
func (b *Bot) searchPage(ctx context.Context, jql string, page int) (string, *tele.ReplyMarkup, error) {
	found, more, err := b.jira.SearchPage(ctx, jql, page*searchPageSize, searchPageSize)
	if err != nil {
		return "", nil, err
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
