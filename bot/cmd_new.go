package bot

import (
	"context"
	"errors"
	"strings"
	"unicode"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
)

// cmdNew handles /new: in a mapped group it makes an issue of the text (or
// of the message it replies to); in a DM it uses the project named first,
// or JIRA_PROJECT.
func (b *Bot) cmdNew(ctx context.Context, m *tele.Message, args string) error {
	project, args, err := b.newProject(ctx, m, args)
	if err != nil || project == "" {
		return err
	}
	target := repliedTo(m)
	if target == nil {
		if args == "" {
			return b.reply(ctx, m, usage("new")+"\nOr send /new as a reply to turn that message into an issue.")
		}
		d := commandDraft(m, args)
		d.filedBy = m.Sender
		return b.publish(ctx, d, project, m, b.newFailed)
	}
	link, err := b.store.MessageLink(target.Chat.ID, target.ID)
	if err == nil {
		return b.reply(ctx, m, "That message already belongs to "+b.keyLink(link.Issue)+".")
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	d := draftOf(target, []*tele.Message{target})
	d.linked = []*tele.Message{m}
	d.filedBy = m.Sender
	if line, _, _ := strings.Cut(args, "\n"); strings.TrimSpace(line) != "" {
		d.summary = line
	}
	if d.text == "" && len(d.files) == 0 && d.summary == "" {
		return b.reply(ctx, m, "That message has no text or file to make an issue of.")
	}
	return b.publish(ctx, d, project, m, b.newFailed)
}

// newProject finds where /new files its issue: the chat's project in a
// group, in a DM the project named first or else JIRA_PROJECT. rest is args
// without the project. An empty project means the user was told why.
func (b *Bot) newProject(ctx context.Context, m *tele.Message, args string) (project, rest string, err error) {
	if m.Chat.Type != tele.ChatPrivate {
		p, ok, err := b.project(m.Chat.ID)
		if err != nil || ok {
			return p, args, err
		}
		return "", "", b.reply(ctx, m, "This chat is not linked to a Jira project: an admin can link it with /link PROJECT.")
	}
	word, after := splitWord(args)
	p, ok, err := b.isProject(ctx, word)
	if err != nil {
		return "", "", b.failed(ctx, m, err, "Project "+word)
	}
	if ok {
		return p, after, nil
	}
	if b.cfg.JiraProject != "" {
		return b.cfg.JiraProject, args, nil
	}
	return "", "", b.reply(ctx, m, "Which project? Write /new PROJECT summary: no default project (JIRA_PROJECT) is set.")
}

// isProject says whether the first word of /new names a project: one jtbot
// knows already, or, typed in capitals, one Jira has. Other words start
// the summary.
func (b *Bot) isProject(ctx context.Context, word string) (string, bool, error) {
	upper := strings.ToUpper(word)
	if !projectPattern.MatchString(upper) {
		return "", false, nil
	}
	known, err := b.knownProjects()
	if err != nil {
		return "", false, err
	}
	if known[upper] {
		return upper, true, nil
	}
	if word != upper {
		return "", false, nil
	}
	p, err := b.jira.GetProject(ctx, upper)
	if jira.IsNotFound(err) {
		return "", false, nil
	}
	return p.Key, err == nil, err
}

// knownProjects are JIRA_PROJECT and the projects chats are mapped to.
func (b *Bot) knownProjects() (map[string]bool, error) {
	rt, err := b.store.ChatProjects()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	if b.cfg.JiraProject != "" {
		known[b.cfg.JiraProject] = true
	}
	for _, p := range b.cfg.ChatProjects {
		known[p] = true
	}
	for _, p := range rt {
		known[p] = true
	}
	return known, nil
}

// newFailed tells the user why Jira refused /new. Jira being away is
// retried instead: the creation intent is recorded, so the retry cannot
// make a second issue, while a user told to try again might.
func (b *Bot) newFailed(ctx context.Context, m *tele.Message, project string, err error) error {
	var je *jira.Error
	if errors.As(err, &je) && je.Temporary() {
		return err
	}
	return b.failed(ctx, m, err, "Project "+project)
}

// commandDraft drafts an issue from "/new summary\ndescription…": args is
// the end of the command's text, formatting kept.
func commandDraft(m *tele.Message, args string) draft {
	text := strings.TrimRightFunc(m.Text, unicode.IsSpace)
	start := max(len(text)-len(args), 0)
	line, rest, _ := strings.Cut(text[start:], "\n")
	d := draft{source: m, summary: strings.TrimSpace(line)}
	whole, entities := sliceText(text, m.Entities, start, len(text))
	d.hashtags = hashtags(whole, entities)
	if rest = strings.TrimLeftFunc(rest, unicode.IsSpace); rest != "" {
		d.text, d.entities = sliceText(text, m.Entities, len(text)-len(rest), len(text))
	}
	return d
}

// withoutProject drops the project named at the start of /new's arguments.
func withoutProject(args, project string) string {
	if word, after := splitWord(args); strings.EqualFold(word, project) {
		return after
	}
	return args
}

// splitWord splits off the first word; rest is trimmed.
func splitWord(s string) (word, rest string) {
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}
