package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/markup"
)

func (b *Bot) cmdLink(ctx context.Context, m *tele.Message, args string) error {
	if refused, err := b.adminOnly(ctx, m); refused || err != nil {
		return err
	}
	key := strings.ToUpper(strings.TrimSpace(args))
	if !projectPattern.MatchString(key) {
		return b.reply(ctx, m, usage("link"))
	}
	p, err := b.jira.GetProject(ctx, key)
	if err != nil {
		return b.failed(ctx, m, err, "Project "+key)
	}
	if err := b.store.SetChatProject(m.Chat.ID, p.Key); err != nil {
		return err
	}
	b.log.WithFields(map[string]any{"chat": m.Chat.ID, "project": p.Key}).Info("chat linked by command")
	b.widenJiraWebhook(ctx, p.Key)
	return b.reply(ctx, m, fmt.Sprintf("🔗 This chat is now linked to <b>%s</b> (%s): /new here creates issues there, and their news lands here.",
		markup.EscapeHTML(p.Key), markup.EscapeHTML(p.Name)))
}

// widenJiraWebhook makes Jira's webhook for jtbot cover a newly linked
// project, so that its news arrives. Only an admin account may: otherwise
// the log (and jtbot doctor) name the project for an admin to add.
func (b *Bot) widenJiraWebhook(ctx context.Context, project string) {
	if b.cfg.JiraWebhookSecret == "" {
		return // not jtbot's webhook to manage (poll mode without one)
	}
	projects, err := b.allProjects()
	if err != nil {
		b.log.WithError(err).Warn("cannot list the projects served")
		return
	}
	added, err := b.jira.WidenWebhookFilter(ctx, projects, b.cfg.JiraWebhookSecret)
	if err != nil {
		b.log.WithError(err).WithField("project", project).Warn("cannot widen the Jira webhook's filter to the linked project (needs a Jira admin): run jtbot webhooks, or add it in Jira; jtbot doctor names what is missing")
		return
	}
	if len(added) > 0 {
		b.log.WithField("projects", strings.Join(added, ",")).Info("Jira webhook filter widened")
	}
}

// allProjects are the projects of CHAT_PROJECTS, JIRA_PROJECT and /link.
func (b *Bot) allProjects() ([]string, error) {
	runtime, err := b.store.ChatProjects()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range []map[int64]string{b.cfg.ChatProjects, runtime} {
		for _, p := range m {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if p := b.cfg.JiraProject; p != "" && !slices.Contains(out, p) {
		out = append(out, p)
	}
	set, err := b.subscriptions()
	if err != nil {
		return nil, err
	}
	return append(out, without(set.index.Projects(), out)...), nil
}

func (b *Bot) cmdUnlink(ctx context.Context, m *tele.Message, _ string) error {
	if refused, err := b.adminOnly(ctx, m); refused || err != nil {
		return err
	}
	runtime, err := b.store.ChatProjects()
	if err != nil {
		return err
	}
	if p, ok := runtime[m.Chat.ID]; ok {
		if err := b.store.DeleteChatProject(m.Chat.ID); err != nil {
			return err
		}
		b.log.WithField("chat", m.Chat.ID).Info("chat unlinked by command")
		if fixed, ok := b.cfg.ChatProjects[m.Chat.ID]; ok {
			return b.reply(ctx, m, "Unlinked from "+markup.EscapeHTML(p)+"; CHAT_PROJECTS still maps this chat to "+markup.EscapeHTML(fixed)+".")
		}
		return b.reply(ctx, m, "Unlinked: this chat no longer belongs to "+markup.EscapeHTML(p)+".")
	}
	if fixed, ok := b.cfg.ChatProjects[m.Chat.ID]; ok {
		return b.reply(ctx, m, "This chat is mapped to "+markup.EscapeHTML(fixed)+" by CHAT_PROJECTS: change that setting to unlink it.")
	}
	return b.reply(ctx, m, "This chat is not linked to a project.")
}

// adminOnly refuses non-admins and private chats; refused says it answered.
func (b *Bot) adminOnly(ctx context.Context, m *tele.Message) (refused bool, err error) {
	switch {
	case !b.isAdmin(m.Sender):
		return true, b.reply(ctx, m, "⛔ Only admins (ADMIN_USERS) may link chats.")
	case m.Chat.Type == tele.ChatPrivate:
		return true, b.reply(ctx, m, "Send this in the group you want to link.")
	}
	return false, nil
}

// mentionPattern finds issue keys in text; the surrounding checks keep
// "ABC-1" inside a word or a URL path out.
var mentionPattern = regexp.MustCompile(`(^|[^\w/-])([A-Z][A-Z0-9_]{0,29}-[1-9][0-9]{0,9})\b`)

const (
	mentionQuiet = 10 * time.Minute
	maxMentions  = 3
)

// onMentions answers a message in a mapped chat that names issue keys with
// a one-line card each, at most once per key and chat in mentionQuiet.
func (b *Bot) onMentions(ctx context.Context, m *tele.Message) error {
	text := messageText(m)
	if text == "" || !b.allowed(m.Sender) {
		return nil
	}
	projects, err := b.chatProjects(ctx, m.Chat.ID)
	if err != nil || len(projects) == 0 {
		b.log.WithField("chat", m.Chat.ID).Debug("message in an unmapped chat ignored")
		return err
	}
	sc := scope{projects: projects}
	var lines []string
	for _, key := range mentionedKeys(text) {
		if !sc.allows(key) {
			continue // a mention is no request: other projects get no answer at all
		}
		first, err := b.store.Remember("mention:"+strconv.FormatInt(m.Chat.ID, 10)+":"+key, mentionQuiet)
		if err != nil {
			return err
		}
		if !first {
			continue
		}
		is, err := b.jira.GetIssue(ctx, key)
		if err != nil {
			// Not an issue after all, or Jira is away: a card is not worth a retry.
			b.log.WithError(err).WithField("issue", key).Debug("no card for a mentioned key")
			continue
		}
		if sc.showable(is) {
			lines = append(lines, b.oneLine(is))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return b.reply(ctx, m, strings.Join(lines, "\n"))
}

func mentionedKeys(text string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, sm := range mentionPattern.FindAllStringSubmatch(text, -1) {
		if k := sm[2]; !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		if len(keys) == maxMentions {
			break
		}
	}
	return keys
}
