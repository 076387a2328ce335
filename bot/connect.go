package bot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/oauth"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// /connect proves who a person is in Jira (DESIGN §8): an OAuth sign-in
// when an OAuth app is configured, else a personal token checked with
// myself. A token is deleted from the chat at once and used only in a DM.

const (
	offText      = "Personal Jira accounts are off on this bot (it has no SECRET_KEY)."
	groupText    = "/connect works only in a private chat with me."
	deletedText  = " I deleted your message: a token posted in a group is never used — revoke it in Jira."
	keptText     = " I could not delete your message: delete it yourself and revoke that token in Jira."
	tokenUsage   = "Send /connect <i>TOKEN</i> (a Jira Data Center personal access token) or /connect <i>EMAIL</i> <i>API-TOKEN</i> (a Jira Cloud API token). I delete the message at once."
	refusedToken = "Jira refused that token, so nothing was stored. Check it and send /connect again."
)

func (b *Bot) cmdConnect(ctx context.Context, m *tele.Message, args string) error {
	secret := args != ""
	if secret {
		// First of all, whatever happens next.
		secret = !b.deleteMessage(ctx, m)
	}
	switch {
	case !b.cfg.PersonalAccounts():
		return b.reply(ctx, m, offText)
	case m.Chat.Type != tele.ChatPrivate:
		return b.reply(ctx, m, groupText+groupTail(args, secret))
	case b.oauth != nil:
		return b.connectOAuth(ctx, m)
	case args == "":
		return b.reply(ctx, m, tokenUsage)
	}
	return b.connectToken(ctx, m, args)
}

func groupTail(args string, kept bool) string {
	switch {
	case args == "":
		return ""
	case kept:
		return keptText
	}
	return deletedText
}

// deleteMessage removes a message that holds a token; it reports whether
// it is gone.
func (b *Bot) deleteMessage(ctx context.Context, m *tele.Message) bool {
	if err := b.remove(ctx, refOf(m)); err != nil {
		b.log.WithError(err).WithField("chat", m.Chat.ID).Warn("cannot delete a /connect message")
		return false
	}
	return true
}

// connectOAuth answers with the provider's consent page behind a button.
func (b *Bot) connectOAuth(ctx context.Context, m *tele.Message) error {
	state, err := newState()
	if err != nil {
		return err
	}
	verifier := oauth.NewVerifier()
	if err := b.store.PutState(state, storage.OAuthState{TelegramID: m.Sender.ID, Verifier: verifier, Created: b.now()}); err != nil {
		return err
	}
	kb := &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{{Text: "🔐 Sign in to Jira", URL: b.oauth.AuthURL(state, verifier)}}}}
	_, err = b.replyWith(ctx, m, "Sign in to Jira as yourself with this button (it works once, for 10 minutes). I will then act in Jira as you.", kb)
	return err
}

// newState is 32 random bytes: nobody can guess a sign-in under way.
func newState() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("bot: oauth state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// connectToken checks a personal token with myself and stores it.
func (b *Bot) connectToken(ctx context.Context, m *tele.Message, args string) error {
	plain, _, err := telegram.OpenConnectArgs(b.cfg.SecretKey, args)
	if err != nil {
		b.log.WithError(err).WithField("user", m.Sender.ID).Warn("cannot open /connect arguments")
		return b.reply(ctx, m, "I could not read that token: send /connect again.")
	}
	a := storage.Account{TelegramID: m.Sender.ID, Created: b.now()}
	switch f := strings.Fields(plain); len(f) {
	case 1:
		a.Kind, a.AccessToken = storage.KindPAT, f[0]
	case 2:
		a.Kind, a.Email, a.AccessToken = storage.KindAPIToken, f[0], f[1]
	default:
		return b.reply(ctx, m, tokenUsage)
	}
	c, err := b.personalClient(a)
	if err != nil {
		return err
	}
	me, err := c.Myself(ctx)
	var je *jira.Error
	switch {
	case err != nil && errors.As(err, &je) && !je.Temporary():
		return b.reply(ctx, m, refusedToken)
	case err != nil:
		return b.failed(ctx, m, err, "")
	}
	if err := b.saveConnection(ctx, a, me); err != nil {
		return err
	}
	return b.reply(ctx, m, connectedText(me.Display()))
}

// saveConnection completes and stores an account for me.
func (b *Bot) saveConnection(ctx context.Context, a storage.Account, me jira.User) error {
	a.JiraID, a.JiraName = string(me.AccountID), me.Display()
	if a.JiraID == "" {
		a.JiraID = string(me.Name)
	}
	if a.JiraName == "" {
		a.JiraName = a.JiraID
	}
	if old, err := b.store.Account(a.TelegramID); err == nil {
		a.Notify = old.Notify // a new connection keeps the person's choices
	}
	if err := b.store.SaveAccount(a); err != nil {
		return err
	}
	b.clients.drop(a.TelegramID)
	b.log.WithFields(map[string]any{"user": a.TelegramID, "kind": a.Kind}).Info("personal Jira account connected")
	return nil
}

func connectedText(name string) string {
	return "🔗 Connected as <b>" + markup.EscapeHTML(name) + "</b>. I now act in Jira as you: comments, issues and changes carry your name. /disconnect ends it."
}

// Connected stores a finished OAuth sign-in and tells the person (the
// callback's oauth.Saver).
func (b *Bot) Connected(ctx context.Context, telegramID int64, g oauth.Grant, me jira.User) error {
	kind := storage.KindOAuthDC
	if b.oauth != nil && b.oauth.Cloud() {
		kind = storage.KindOAuthCloud
	}
	a := storage.Account{TelegramID: telegramID, Kind: kind, AccessToken: g.AccessToken, RefreshToken: g.RefreshToken,
		Expiry: g.Expiry, CloudID: g.CloudID, APIBase: g.APIBase, Created: b.now()}
	if err := b.saveConnection(ctx, a, me); err != nil {
		return err
	}
	b.DM(ctx, telegramID, connectedText(me.Display()))
	return nil
}

// TakeState hands out, once, what /connect stored with a state (the
// callback's oauth.StateTaker).
func (b *Bot) TakeState(state string, now time.Time) (int64, string, error) {
	st, err := b.store.TakeState(state, now)
	if errors.Is(err, storage.ErrStateUnknown) || errors.Is(err, storage.ErrStateExpired) {
		return 0, "", fmt.Errorf("bot: %w", oauth.ErrBadState)
	}
	if err != nil {
		return 0, "", err
	}
	return st.TelegramID, st.Verifier, nil
}

var (
	_ oauth.Saver      = (*Bot)(nil)
	_ oauth.StateTaker = (*Bot)(nil)
)

func (b *Bot) cmdDisconnect(ctx context.Context, m *tele.Message, _ string) error {
	act := actorOf(ctx)
	if !act.connected() {
		return b.reply(ctx, m, "You were not connected.")
	}
	if _, err := b.store.DeleteAccount(m.Sender.ID); err != nil {
		return err
	}
	b.clients.drop(m.Sender.ID)
	if b.oauth != nil && (act.account.Kind == storage.KindOAuthCloud || act.account.Kind == storage.KindOAuthDC) {
		if err := b.oauth.Revoke(ctx, grantOf(act.account)); err != nil {
			b.log.WithError(err).Warn("cannot revoke a Jira grant")
		}
	}
	b.log.WithField("user", m.Sender.ID).Info("personal Jira account disconnected")
	return b.reply(ctx, m, "Disconnected: I forgot your Jira token and no longer act as you. You can also remove jtbot's access in your Jira profile.")
}
