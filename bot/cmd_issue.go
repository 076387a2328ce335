package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
)

func (b *Bot) cmdIssue(ctx context.Context, m *tele.Message, args string) error {
	key, ok := issueKey(args)
	if !ok {
		return b.reply(ctx, m, usage("issue"))
	}
	is, ok, err := b.reach(ctx, m, key)
	if !ok {
		return err
	}
	watching, err := b.watching(key, m.Sender.ID)
	if err != nil {
		return err
	}
	sent, err := b.replyWith(ctx, m, b.cardText(is), b.cardKeyboard(is, watching))
	if err != nil {
		return err
	}
	// Replies to the card become comments, like replies to notifications.
	return b.store.LinkMessage(sent.Chat.ID, sent.ID, storage.Link{Issue: is.Key})
}

func (b *Bot) watching(key string, userID int64) (bool, error) {
	keys, err := b.store.Watching(userID)
	for _, k := range keys {
		if k == key {
			return true, err
		}
	}
	return false, err
}

// cardText is an issue's card: the fields people look at first.
func (b *Bot) cardText(is jira.Card) string {
	assignee := "Unassigned"
	if is.Assignee != nil {
		assignee = is.Assignee.Display()
	}
	updated := "—"
	if !is.Updated.IsZero() {
		updated = is.Updated.UTC().Format("2006-01-02 15:04 UTC")
	}
	rows := [][2]string{
		{"Type", is.Type}, {"Status", is.Status}, {"Assignee", assignee},
		{"Priority", is.Priority}, {"Reporter", is.Reporter.Display()}, {"Updated", updated},
	}
	lines := []string{"📌 <b>" + b.keyLink(is.Key) + "</b> " + markup.EscapeHTML(is.Summary)}
	for _, r := range rows {
		v := cmp.Or(markup.EscapeHTML(r[1]), "—")
		if r[0] == "Status" {
			v = "<b>" + v + "</b>"
		}
		lines = append(lines, r[0]+": "+v)
	}
	return strings.Join(lines, "\n")
}

// oneLine is the short card for an issue key mentioned in a chat.
func (b *Bot) oneLine(is jira.Card) string {
	parts := []string{b.keyLink(is.Key) + " " + markup.EscapeHTML(shorten(is.Summary, 100)), markup.EscapeHTML(is.Status)}
	if is.Assignee != nil {
		parts = append(parts, "👤 "+markup.EscapeHTML(is.Assignee.Display()))
	}
	return strings.Join(parts, " · ")
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Callback data is "kind|KEY[|arg]", at most 64 bytes (a Telegram limit).
const (
	cbCard        = "i" // show the card again
	cbAssignMe    = "a"
	cbTransitMenu = "t" // list the transitions
	cbMove        = "m" // make transition arg
	cbResolve     = "r" // make transition arg with resolution arg2 (an index)
	cbWatch       = "w" // toggle the presser's watch
	cbSearchPage  = "s" // search page arg; the JQL is in the message
	cbNotify      = "n" // kind of personal notification to toggle
)

// cb builds callback data.
func cb(kind, key string, arg ...string) string {
	return strings.Join(append([]string{kind, key}, arg...), "|")
}

// row keeps the buttons whose data fits Telegram's 64 bytes; keys are
// short enough in practice, this only guards odd ones.
func row(buttons ...tele.InlineButton) []tele.InlineButton {
	var out []tele.InlineButton
	for _, bt := range buttons {
		if len(bt.Data) <= 64 {
			out = append(out, bt)
		}
	}
	return out
}

func (b *Bot) cardKeyboard(is jira.Card, watching bool) *tele.ReplyMarkup {
	watch := "👁 Watch"
	if watching {
		watch = "🙈 Unwatch"
	}
	return &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{
		row(tele.InlineButton{Text: "🙋 Assign to me", Data: cb(cbAssignMe, is.Key)}, tele.InlineButton{Text: "🔄 Transition", Data: cb(cbTransitMenu, is.Key)}),
		row(tele.InlineButton{Text: watch, Data: cb(cbWatch, is.Key)}, tele.InlineButton{Text: "🔗 Open in Jira", URL: b.jira.BrowseURL(is.Key)}),
	}}
}

// transitionKeyboard offers an issue's transitions, two per row.
func transitionKeyboard(is jira.Card) *tele.ReplyMarkup {
	var rows [][]tele.InlineButton
	var cur []tele.InlineButton
	for _, t := range is.Transitions {
		label := t.Name
		if t.To != "" && !strings.EqualFold(t.To, t.Name) {
			label += " → " + t.To
		}
		cur = append(cur, tele.InlineButton{Text: label, Data: cb(cbMove, is.Key, t.ID)})
		if len(cur) == 2 {
			rows, cur = append(rows, row(cur...)), nil
		}
	}
	if len(cur) > 0 {
		rows = append(rows, row(cur...))
	}
	rows = append(rows, row(tele.InlineButton{Text: "« Back to the card", Data: cb(cbCard, is.Key)}))
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

func (b *Bot) cmdComment(ctx context.Context, m *tele.Message, args string) error {
	key, text, ok := splitKey(args)
	if !ok || text == "" {
		return b.reply(ctx, m, usage("comment"))
	}
	if _, ok, err := b.reach(ctx, m, key); !ok {
		return err
	}
	body := attributionLine(ctx, m.Sender) + markup.Escape(text)
	id, err := b.jc(ctx).AddComment(ctx, key, body)
	if err != nil {
		return b.failed(ctx, m, err, key)
	}
	b.log.WithField("issue", key).Info("comment added by command")
	// Linked so that the comment is not posted back, and replies to the
	// command continue the thread.
	if err := b.store.LinkComment(key, id, refOf(m), true); err != nil {
		b.log.WithError(err).Warn("cannot link a comment to its command")
	}
	b.replyDone(ctx, m, "💬 Comment added to "+b.keyLink(key)+".", nil)
	return nil
}

func (b *Bot) cmdAssign(ctx context.Context, m *tele.Message, args string) error {
	key, who, ok := splitKey(args)
	if !ok || who == "" {
		return b.reply(ctx, m, usage("assign"))
	}
	if _, ok, err := b.reach(ctx, m, key); !ok {
		return err
	}
	id, name, problem, err := b.assignee(ctx, m.Sender, who)
	if err != nil {
		return b.failed(ctx, m, err, key)
	}
	if problem != "" {
		return b.reply(ctx, m, problem)
	}
	if err := b.assign(ctx, m.Sender, refOf(m), key, id, name); err != nil {
		return b.failed(ctx, m, err, key)
	}
	text := "👤 " + b.keyLink(key) + " assigned to <b>" + markup.EscapeHTML(name) + "</b>."
	if id == "" {
		text = "👤 " + b.keyLink(key) + " is now unassigned."
	}
	b.replyDone(ctx, m, text, nil)
	return nil
}

// attributionLine names who wrote a text with the bot's account; a person
// acting with their own account is the author in Jira and needs none.
func attributionLine(ctx context.Context, u *tele.User) string {
	if actorOf(ctx).personal() {
		return ""
	}
	return "_" + markup.Escape(Attribution(u)) + "_\n"
}

// connectHint is what a user without a personal account reads.
const connectHint = "Connect your own Jira account first: send /connect to me in a private chat"

// assignee resolves "me", "none" or a Jira user to the id Assign wants.
func (b *Bot) assignee(ctx context.Context, sender *tele.User, who string) (id, name, problem string, err error) {
	switch strings.ToLower(who) {
	case "none", "nobody", "-":
		return "", "nobody", "", nil
	case "me":
		id, ok := connectedID(ctx)
		if !ok {
			return "", "", connectHint + ".", nil
		}
		return id, actorOf(ctx).account.JiraName, "", nil
	}
	u, problem, err := b.findUser(ctx, who)
	if err != nil || problem != "" {
		return "", "", problem, err
	}
	id, err = b.jc(ctx).UserID(ctx, u)
	return id, u.Display(), "", err
}

// connectedID is the Jira id of the person acting, when they connected
// their own account: only that proves who "me" is.
func connectedID(ctx context.Context) (string, bool) {
	a := actorOf(ctx)
	return a.account.JiraID, a.personal() && a.account.JiraID != ""
}

// assign sets the assignee with jtbot's account and records in a comment
// who asked for it.
func (b *Bot) assign(ctx context.Context, by *tele.User, at storage.MessageRef, key, id, name string) error {
	if err := b.jc(ctx).Assign(ctx, key, id); err != nil {
		return err
	}
	note := "Assigned to " + markup.Escape(name)
	if id == "" {
		note = "Unassigned"
	}
	b.noteInJira(ctx, key, note+" by "+markup.Escape(Attribution(by)), at)
	b.log.WithField("issue", key).Info("issue assigned by command")
	return nil
}

// noteInJira adds the comment that names who acted through jtbot. The
// action itself is done, so a failed note is only logged.
func (b *Bot) noteInJira(ctx context.Context, key, body string, at storage.MessageRef) {
	if actorOf(ctx).personal() {
		return // Jira's own history names the person
	}
	id, err := b.jc(ctx).AddComment(ctx, key, "_"+body+"_")
	if err != nil {
		b.log.WithError(err).WithField("issue", key).Warn("cannot record who acted in a Jira comment")
		return
	}
	if err := b.store.LinkComment(key, id, at, true); err != nil {
		b.log.WithError(err).Warn("cannot link a note to its message")
	}
}

func (b *Bot) cmdTransition(ctx context.Context, m *tele.Message, args string) error {
	args, resolution := cutResolution(args)
	key, want, ok := splitKey(args)
	if !ok {
		return b.reply(ctx, m, usage("transition"))
	}
	is, ok, err := b.reach(ctx, m, key)
	if !ok {
		return err
	}
	if len(is.Transitions) == 0 {
		return b.reply(ctx, m, b.keyLink(key)+" has no transitions jtbot may make from "+markup.EscapeHTML(is.Status)+".")
	}
	t, matches := matchTransition(is.Transitions, want)
	if matches != 1 {
		prompt := "Move " + b.keyLink(key) + " (" + markup.EscapeHTML(is.Status) + ") to:"
		switch {
		case want != "" && matches == 0:
			prompt = "No transition of " + b.keyLink(key) + " matches “" + markup.EscapeHTML(want) + "”. Choose:"
		case want != "":
			prompt = "“" + markup.EscapeHTML(want) + "” matches several transitions of " + b.keyLink(key) + ". Choose:"
		}
		_, err := b.replyWith(ctx, m, prompt, transitionKeyboard(is))
		return err
	}
	if res, ok := t.Resolution(); ok && res.Required && resolution == "" && len(t.OtherRequired()) == 0 {
		_, err := b.replyWith(ctx, m, "Moving "+b.keyLink(key)+" to <b>"+markup.EscapeHTML(target(t))+"</b> needs a resolution:", resolutionKeyboard(is.Key, t, res))
		return err
	}
	err = b.transition(ctx, m.Sender, refOf(m), is, t, resolution)
	var needs needsJiraError
	switch {
	case errors.As(err, &needs):
		return b.reply(ctx, m, b.needsJiraText(needs))
	case err != nil:
		return b.failed(ctx, m, err, key)
	}
	b.replyDone(ctx, m, "🔄 "+b.keyLink(key)+": "+markup.EscapeHTML(is.Status)+" → <b>"+markup.EscapeHTML(target(t))+"</b>", nil)
	return nil
}

// cutResolution takes "resolution=NAME" (NAME may hold spaces: it runs to
// the end) off a /transition's arguments.
func cutResolution(args string) (rest, resolution string) {
	i := strings.Index(strings.ToLower(args), "resolution=")
	if i < 0 {
		return args, ""
	}
	return strings.TrimSpace(args[:i]), strings.TrimSpace(args[i+len("resolution="):])
}

// resolutionKeyboard offers the resolutions a transition's screen allows.
// Buttons carry the value's index: callback data holds 64 bytes at most.
func resolutionKeyboard(key string, t jira.Transition, res jira.TransitionField) *tele.ReplyMarkup {
	var rows [][]tele.InlineButton
	for i, name := range res.Allowed {
		rows = append(rows, row(tele.InlineButton{Text: name, Data: cb(cbResolve, key, t.ID, strconv.Itoa(i))}))
	}
	rows = append(rows, row(tele.InlineButton{Text: "« Back to the card", Data: cb(cbCard, key)}))
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

// needsJiraError is a transition whose screen asks for fields jtbot does
// not fill in (anything but the resolution): the user finishes it in Jira.
type needsJiraError struct {
	key, to string
	fields  []string
}

func (e needsJiraError) Error() string {
	return fmt.Sprintf("moving %s to %s needs %s", e.key, e.to, strings.Join(e.fields, ", "))
}

func (b *Bot) needsJiraText(e needsJiraError) string {
	return "Moving " + b.keyLink(e.key) + " to <b>" + markup.EscapeHTML(e.to) + "</b> needs " +
		markup.EscapeHTML(strings.Join(e.fields, ", ")) + ": please do it in Jira: " + b.jira.BrowseURL(e.key)
}

func target(t jira.Transition) string {
	if t.To != "" {
		return t.To
	}
	return t.Name
}

// matchTransition finds the transition named want (or leading to a status
// named want), ignoring case; failing that, the one whose name contains
// it. It returns how many matched at the deciding step.
func matchTransition(list []jira.Transition, want string) (jira.Transition, int) {
	want = strings.TrimSpace(want)
	if want == "" {
		return jira.Transition{}, 0
	}
	pick := func(ok func(jira.Transition) bool) (jira.Transition, int) {
		var found jira.Transition
		n := 0
		for _, t := range list {
			if ok(t) {
				found, n = t, n+1
			}
		}
		return found, n
	}
	if t, n := pick(func(t jira.Transition) bool {
		return strings.EqualFold(t.Name, want) || strings.EqualFold(t.To, want)
	}); n > 0 {
		return t, n
	}
	lower := strings.ToLower(want)
	return pick(func(t jira.Transition) bool {
		return strings.Contains(strings.ToLower(t.Name), lower) || strings.Contains(strings.ToLower(t.To), lower)
	})
}

// transition makes t with jtbot's account, with the resolution its screen
// asks for, and records who asked for it. A screen with other required
// fields is a needsJiraError: never a raw 400 for the user.
func (b *Bot) transition(ctx context.Context, by *tele.User, at storage.MessageRef, is jira.Card, t jira.Transition, resolution string) error {
	if other := t.OtherRequired(); len(other) > 0 {
		return needsJiraError{key: is.Key, to: target(t), fields: fieldNames(other)}
	}
	var err error
	if res, ok := t.Resolution(); ok && resolution != "" {
		name, known := allowedName(res, resolution)
		if !known {
			return needsJiraError{key: is.Key, to: target(t), fields: []string{"a resolution among " + strings.Join(res.Allowed, ", ")}}
		}
		err = b.jc(ctx).DoTransitionWith(ctx, is.Key, t.ID, jira.ResolutionFields(name))
	} else {
		err = b.jc(ctx).DoTransition(ctx, is.Key, t.ID)
	}
	if missing := jira.MissingFields(err); len(missing) > 0 {
		return needsJiraError{key: is.Key, to: target(t), fields: missing}
	}
	if err != nil {
		return err
	}
	b.noteInJira(ctx, is.Key, fmt.Sprintf("Moved from %s to %s by %s", markup.Escape(is.Status), markup.Escape(target(t)), markup.Escape(Attribution(by))), at)
	b.log.WithField("issue", is.Key).Info("issue transitioned by command")
	return nil
}

func fieldNames(fields []jira.TransitionField) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// allowedName finds want among the values a field allows, ignoring case;
// a field that lists none takes anything.
func allowedName(f jira.TransitionField, want string) (string, bool) {
	if len(f.Allowed) == 0 {
		return want, true
	}
	for _, a := range f.Allowed {
		if strings.EqualFold(a, want) {
			return a, true
		}
	}
	return "", false
}
