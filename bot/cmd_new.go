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

// newProject finds where /new files its issue: the project named first
// when it is one of the scope's, else the chat's own project, or in a DM
// JIRA_PROJECT. rest is args without the project. An empty project means
// the user was told why.
func (b *Bot) newProject(ctx context.Context, m *tele.Message, args string) (project, rest string, err error) {
	sc, err := b.scopeOf(ctx, m.Chat, m.Sender)
	if err != nil {
		return "", "", err
	}
	word, after := splitWord(args)
	if sc.jira {
		// A connected person's DM: any project Jira lets them see, named
		// in capitals like a key.
		if b.namesProject(ctx, word) {
			return word, after, nil
		}
	} else if upper := strings.ToUpper(word); sc.has(upper) {
		return upper, after, nil
	} else if refused, err := b.foreignProject(ctx, m, sc, word); refused || err != nil {
		return "", "", err
	}
	switch {
	case !sc.dm && len(sc.projects) > 0:
		return sc.projects[0], args, nil
	case sc.dm && b.cfg.JiraProject != "":
		return b.cfg.JiraProject, args, nil
	case sc.dm:
		return "", "", b.reply(ctx, m, "Which project? Write /new PROJECT summary: no default project (JIRA_PROJECT) is set.")
	}
	return "", "", b.reply(ctx, m, unmappedHint)
}

// namesProject reports whether word, typed in capitals, is a Jira project.
func (b *Bot) namesProject(ctx context.Context, word string) bool {
	if word == "" || word != strings.ToUpper(word) || !projectPattern.MatchString(word) {
		return false
	}
	_, err := b.jc(ctx).GetProject(ctx, word)
	return err == nil
}

// foreignProject refuses a first word typed in capitals that names a Jira
// project outside the scope; other words start the summary.
func (b *Bot) foreignProject(ctx context.Context, m *tele.Message, sc scope, word string) (bool, error) {
	if word == "" || word != strings.ToUpper(word) || !projectPattern.MatchString(word) {
		return false, nil
	}
	if _, err := b.jc(ctx).GetProject(ctx, word); err != nil {
		return false, nil // not a project after all (or Jira cannot say): a summary word
	}
	where := "this chat's projects"
	if sc.dm {
		where = "your projects"
	}
	return true, b.reply(ctx, m, word+" is not in "+where+".")
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
