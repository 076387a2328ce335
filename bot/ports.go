package bot

import (
	"context"
	"io"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// The behaviour reaches the outside world only through these interfaces,
// so that tests of formatting, routing and access can run against small
// in-memory implementations; the daemon passes *storage.Store,
// *jira.Client and *telegram.Client.

// Queue is the durable work queue the worker drains.
type Queue interface {
	Notify() <-chan struct{}
	Ready(now time.Time, limit int) (items []storage.Item, next time.Time, err error)
	DoneAll(ids []uint64) error
	RetryAll(ids []uint64, notBefore time.Time, reason string) error
	DelayAll(ids []uint64, notBefore time.Time) error
	BuryAll(ids []uint64, reason string) error
	SweepDedup() (int, error)
}

// Links remembers which message stands for which issue or comment.
type Links interface {
	Intent(post storage.MessageRef) (at time.Time, ok bool, err error)
	RecordIntent(post storage.MessageRef, at time.Time) error
	ClearIntent(post storage.MessageRef) error
	RecordIssue(post storage.MessageRef, key, issueID string, fromTelegram bool) error
	MessageLink(chatID int64, messageID int) (storage.Link, error)
	LinkMessage(chatID int64, messageID int, l storage.Link) error
	LinkComment(issue, commentID string, ref storage.MessageRef, fromTelegram bool) error
	Comment(issue, commentID string) (storage.CommentLink, error)
	Root(key string) (storage.Root, error)
	SetRoot(key string, ref storage.MessageRef, fromTelegram bool) error
	IssueKeyByID(id string) (string, error)
	RememberIssueID(id, key string) error
}

// Memory is a set of keys that expire: "done once" markers.
type Memory interface {
	Remember(key string, ttl time.Duration) (first bool, err error)
	Seen(key string) bool
}

// Chats holds the run-time chat → project mappings (/link).
type Chats interface {
	ChatProjects() (map[int64]string, error)
	SetChatProject(chatID int64, project string) error
	DeleteChatProject(chatID int64) error
}

// People holds what users asked for: /watch.
type People interface {
	Watch(issue string, userID int64) error
	Unwatch(issue string, userID int64) (bool, error)
	Watchers(issue string) ([]int64, error)
	Watching(userID int64) ([]string, error)
}

// Store is everything the behaviour keeps.
type Store interface {
	Queue
	Links
	Memory
	Chats
	People
	Pins
	Accounts
	Subscriptions
	Rooms
}

// Subscriptions are the admins' filtered streams of Jira events (DESIGN §9).
type Subscriptions interface {
	AddSubscription(s storage.Subscription) (storage.Subscription, error)
	Subscriptions() ([]storage.Subscription, error)
	ChatSubscriptions(chat int64) ([]storage.Subscription, error)
	RemoveSubscription(id uint64) (storage.Subscription, bool, error)
	ForgetChat(chatID int64) (subscriptions int, err error)
}

// Rooms are the chats and topics that show an issue besides its own chat,
// each with its own root and comment messages.
type Rooms interface {
	SetRoomRoot(issue string, ref storage.MessageRef) error
	RoomRoot(issue string, chat int64, thread int) (storage.MessageRef, error)
	LinkRoomComment(issue, commentID string, ref storage.MessageRef) error
	RoomComment(issue string, chat int64, thread int, commentID string) (storage.MessageRef, error)
}

// Accounts are the personal Jira connections, sealed with SECRET_KEY
// (DESIGN §8), and the OAuth states of sign-ins under way.
type Accounts interface {
	SaveAccount(a storage.Account) error
	Account(telegramID int64) (storage.Account, error)
	DeleteAccount(telegramID int64) (bool, error)
	Accounts() ([]storage.Account, error)
	PutState(state string, st storage.OAuthState) error
	TakeState(state string, now time.Time) (storage.OAuthState, error)
}

// Pins ties @usernames of ALLOWED_USERS to the first account seen with them.
type Pins interface {
	PinUsername(name string, id int64) (pinnedID int64, err error)
	Pins() (map[string]int64, error)
}

// Jira is the Jira REST API as the behaviour uses it.
type Jira interface {
	Server() string
	BrowseURL(key string) string
	GetIssue(ctx context.Context, key string) (jira.Card, error)
	CanReadComment(ctx context.Context, key, commentID string) (bool, error)
	IssueKeyByID(ctx context.Context, id string) (string, error)
	CreateIssue(ctx context.Context, n jira.NewIssue) (jira.Created, error)
	FindByOriginSince(ctx context.Context, project, origin string, since time.Time, reconcile []string) (jira.Created, bool, error)
	UpdateIssue(ctx context.Context, key, summary, description string) error
	AddComment(ctx context.Context, key, body string) (string, error)
	UpdateComment(ctx context.Context, key, id, body string) error
	Attach(ctx context.Context, key, filename string, content io.Reader) (string, error)
	Attachments(ctx context.Context, key string) ([]jira.AttachmentInfo, error)
	Assign(ctx context.Context, key, userID string) error
	DoTransition(ctx context.Context, key, transitionID string) error
	DoTransitionWith(ctx context.Context, key, transitionID string, fields map[string]any) error
	SearchPage(ctx context.Context, jql string, start, n int) ([]jira.Card, bool, error)
	GetProject(ctx context.Context, key string) (jira.ProjectInfo, error)
	GetUser(ctx context.Context, id string) (jira.User, error)
	FindUsers(ctx context.Context, query string) ([]jira.User, error)
	UserID(ctx context.Context, u jira.User) (string, error)
	Myself(ctx context.Context) (jira.User, error)
	Watchers(ctx context.Context, key string) ([]jira.User, error)
	WidenWebhookFilter(ctx context.Context, projects []string, secret string) ([]string, error)
	MatchesJQL(ctx context.Context, issue, jql string) (bool, error)
	CheckJQL(ctx context.Context, jql string) error
	InternalNote(ctx context.Context, key, commentID string) (bool, error)
}

// Telegram is the one way out to Telegram (telegram.Client).
type Telegram interface {
	Connect(ctx context.Context) error
	Username() string
	Send(ctx context.Context, o telegram.Out) (*tele.Message, error)
	Edit(ctx context.Context, messageID int, o telegram.Out) error
	Delete(ctx context.Context, chat int64, messageID int) error
	Answer(ctx context.Context, callbackID, text string, alert bool) error
	File(ctx context.Context, fileID string) (io.ReadCloser, error)
	SetCommands(ctx context.Context, cmds []tele.Command) error
	Admit(chats ...int64) time.Duration
	Wait(chat int64) time.Duration
	IsMember(ctx context.Context, chat, user int64) (bool, error)
	LinkedChat(ctx context.Context, chat int64) (int64, error)
	ResolveChat(ctx context.Context, ref string) (tele.Chat, error)
	MemberStatus(ctx context.Context, chat, user int64) (string, error)
}

// Stats records outcomes (metrics).
type Stats interface {
	Delivered(source string, received time.Time)
	Failed(source, reason string, retried bool)
}

var (
	_ Store    = (*storage.Store)(nil)
	_ Jira     = (*jira.Client)(nil)
	_ Telegram = (*telegram.Client)(nil)
)
