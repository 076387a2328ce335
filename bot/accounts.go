package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/oauth"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
)

// A connected user acts in Jira as themselves (DESIGN §8): their commands,
// buttons, /new and replies run with their own client, which travels in
// the context of the update being handled (an actor). Everything else —
// notifications, channel posts, users without an account — uses the bot's.

// OAuthProvider is jira/oauth's Provider as the bot uses it.
type OAuthProvider interface {
	AuthURL(state, verifier string) string
	Client(g oauth.Grant, onRotate func(oauth.Grant)) (*jira.Client, error)
	Revoke(ctx context.Context, g oauth.Grant) error
	Cloud() bool
}

var _ OAuthProvider = (*oauth.Provider)(nil)

// actor is who an update acts as in Jira.
type actor struct {
	account storage.Account
	// jira is the person's own client; nil: the bot's account.
	jira Jira
	// expired: connected, but Jira refused the grant; they must /connect
	// again before their commands run.
	expired bool
}

func (a actor) connected() bool { return a.account.TelegramID != 0 }

// personal reports an actor whose own client works.
func (a actor) personal() bool { return a.jira != nil }

type actorKey struct{}

func withActor(ctx context.Context, a actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

func actorOf(ctx context.Context) actor {
	a, _ := ctx.Value(actorKey{}).(actor)
	return a
}

// jc is the Jira client an update acts with: the person's own, or the
// bot's.
func (b *Bot) jc(ctx context.Context) Jira {
	if a := actorOf(ctx); a.jira != nil {
		return a.jira
	}
	return b.jira
}

// actorFor finds u's connection. A stored account that cannot be opened
// is an error (SECRET_KEY was checked at start: it is the database).
func (b *Bot) actorFor(u *tele.User) (actor, error) {
	if u == nil || !b.cfg.PersonalAccounts() {
		return actor{}, nil
	}
	a, err := b.store.Account(u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return actor{}, nil
	case err != nil:
		return actor{}, err
	case a.NeedsReconnect:
		return actor{account: a, expired: true}, nil
	}
	c, err := b.clients.get(a, b.personalClient)
	if err != nil {
		b.log.WithError(err).WithField("user", u.ID).Warn("cannot build a personal Jira client")
		return actor{account: a, expired: true}, nil
	}
	return actor{account: a, jira: c}, nil
}

// personalClient builds a client acting as the account's person.
func (b *Bot) personalClient(a storage.Account) (Jira, error) {
	var (
		c   *jira.Client
		err error
	)
	switch a.Kind {
	case storage.KindOAuthCloud, storage.KindOAuthDC:
		if b.oauth == nil {
			return nil, errors.New("bot: an OAuth connection, but no OAuth app is configured")
		}
		id := a.TelegramID
		c, err = b.oauth.Client(grantOf(a), func(g oauth.Grant) { b.rotated(id, g) })
	case storage.KindAPIToken:
		c, err = jira.NewPersonal(b.cfg.JiraServer, b.cfg.JiraServer, jira.BasicAuth(a.Email, a.AccessToken), b.http)
		if err == nil {
			c.SetCloud(true)
		}
	case storage.KindPAT:
		c, err = jira.NewPersonal(b.cfg.JiraServer, b.cfg.JiraServer, jira.BearerAuth(a.AccessToken), b.http)
		if err == nil {
			c.SetCloud(false)
		}
	default:
		return nil, fmt.Errorf("bot: unknown kind of connection %q", a.Kind)
	}
	if err != nil {
		return nil, err
	}
	c.SetSearchSettle(b.cfg.JiraSearchSettle)
	return c, nil
}

func grantOf(a storage.Account) oauth.Grant {
	return oauth.Grant{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, Expiry: a.Expiry,
		CloudID: a.CloudID, APIBase: a.APIBase}
}

// rotated stores a refreshed grant at once: the old refresh token is dead,
// and a restart with it would lose the connection.
func (b *Bot) rotated(telegramID int64, g oauth.Grant) {
	a, err := b.store.Account(telegramID)
	if err != nil {
		b.log.WithError(err).WithField("user", telegramID).Warn("cannot read an account to store its refreshed tokens")
		return
	}
	a.AccessToken, a.RefreshToken, a.Expiry = g.AccessToken, g.RefreshToken, g.Expiry
	if err := b.store.SaveAccount(a); err != nil {
		b.log.WithError(err).WithField("user", telegramID).Warn("cannot store refreshed tokens")
	}
}

// personalClients keeps one client per person: an OAuth client refreshes
// and rotates its grant, and two clients refreshing one grant would use a
// refresh token twice (the second is refused).
type personalClients struct {
	mu sync.Mutex
	by map[int64]cachedClient
}

// cachedClient remembers which connection it was built for: a new
// /connect (a new Created) gets a new client.
type cachedClient struct {
	c       Jira
	created time.Time
}

func (p *personalClients) get(a storage.Account, build func(storage.Account) (Jira, error)) (Jira, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.by[a.TelegramID]; ok && cc.created.Equal(a.Created) {
		return cc.c, nil
	}
	c, err := build(a)
	if err != nil {
		return nil, err
	}
	if p.by == nil {
		p.by = make(map[int64]cachedClient)
	}
	p.by[a.TelegramID] = cachedClient{c: c, created: a.Created}
	return c, nil
}

func (p *personalClients) drop(telegramID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.by, telegramID)
}

// expiredText answers a connected user whose grant Jira refuses.
const expiredText = "🔌 Your Jira connection expired or was revoked: send /connect to me in a private chat to connect again."

// refusedGrant handles Jira refusing a person's own credentials: the
// account is marked, the client dropped, and the person told once by DM.
// It reports whether err was such a refusal.
func (b *Bot) refusedGrant(ctx context.Context, err error) bool {
	a := actorOf(ctx)
	if !a.personal() || !jira.IsUnauthorized(err) {
		return false
	}
	b.expire(ctx, a.account.TelegramID)
	return true
}

// expire marks an account as needing a new /connect and DMs its person,
// once: the mark stays until they connect again.
func (b *Bot) expire(ctx context.Context, telegramID int64) {
	b.clients.drop(telegramID)
	a, err := b.store.Account(telegramID)
	if err != nil || a.NeedsReconnect {
		return
	}
	a.NeedsReconnect = true
	if err := b.store.SaveAccount(a); err != nil {
		b.log.WithError(err).WithField("user", telegramID).Warn("cannot mark an expired Jira connection")
		return
	}
	b.log.WithField("user", telegramID).Info("personal Jira connection refused by Jira: asked to reconnect")
	b.DM(ctx, telegramID, expiredText)
}

// DM sends a private message through the bot's one rate-limited path. It
// is a courtesy: a DM that cannot go (the user blocked the bot, the
// limits) is logged and dropped.
func (b *Bot) DM(ctx context.Context, telegramID int64, html string) {
	if _, err := b.post(ctx, storage.MessageRef{ChatID: telegramID}, markup.Truncate(html, maxMessage), nil, mayWait); err != nil {
		b.log.WithError(err).WithField("user", telegramID).Warn("private message dropped")
	}
}
