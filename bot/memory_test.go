package bot

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// Behaviour tests without HTTP: the bot against in-memory Telegram and Jira
// (and the real store in a temp dir). The wire-level tests of the same
// paths run against the fakes.

// memTelegram records what would leave for Telegram.
type memTelegram struct {
	sent    []telegram.Out
	members map[[2]int64]bool
}

func (m *memTelegram) Connect(context.Context) error { return nil }
func (m *memTelegram) Username() string              { return "jtbot_test_bot" }
func (m *memTelegram) Send(_ context.Context, o telegram.Out) (*tele.Message, error) {
	m.sent = append(m.sent, o)
	return &tele.Message{ID: len(m.sent), Chat: &tele.Chat{ID: o.Chat}}, nil
}
func (m *memTelegram) Edit(_ context.Context, _ int, o telegram.Out) error {
	m.sent = append(m.sent, o)
	return nil
}
func (m *memTelegram) Delete(context.Context, int64, int) error           { return nil }
func (m *memTelegram) Answer(context.Context, string, string, bool) error { return nil }
func (m *memTelegram) File(context.Context, string) (io.ReadCloser, error) {
	return nil, &telegram.Error{Code: 400, Description: "Bad Request: file is too big"}
}
func (m *memTelegram) SetCommands(context.Context, []tele.Command) error { return nil }
func (m *memTelegram) Admit(...int64) time.Duration                      { return 0 }
func (m *memTelegram) Wait(int64) time.Duration                          { return 0 }
func (m *memTelegram) IsMember(_ context.Context, chat, user int64) (bool, error) {
	return m.members[[2]int64{chat, user}], nil
}
func (m *memTelegram) LinkedChat(context.Context, int64) (int64, error)           { return 0, nil }
func (m *memTelegram) MemberStatus(context.Context, int64, int64) (string, error) { return "left", nil }
func (m *memTelegram) ResolveChat(context.Context, string) (tele.Chat, error) {
	return tele.Chat{}, &telegram.Error{Code: 400, Description: "Bad Request: chat not found"}
}

// memJira knows issues by key; any other call fails the test (nil interface).
type memJira struct {
	Jira
	issues map[string]jira.Card
	calls  int
}

func (j *memJira) Server() string              { return "https://jira.example" }
func (j *memJira) BrowseURL(key string) string { return j.Server() + "/browse/" + key }
func (j *memJira) GetIssue(_ context.Context, key string) (jira.Card, error) {
	j.calls++
	if is, ok := j.issues[key]; ok {
		return is, nil
	}
	return jira.Card{}, &jira.Error{Op: "get issue", Status: 404}
}

func newMemBot(t *testing.T, env ...string) (*Bot, *memTelegram, *memJira) {
	t.Helper()
	cfg, err := config.Load(append([]string{"TELEGRAM_HOOK_TOKEN=1:mem", "JIRA_SERVER=https://jira.example", "JIRA_TOKEN=x"}, env...), true)
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(filepath.Join(t.TempDir(), "jtbot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tg := &memTelegram{}
	jc := &memJira{issues: map[string]jira.Card{"OPS-1": {Key: "OPS-1", Project: "OPS", Summary: "Disk full", Type: "Task", Status: "To Do"}}}
	log := logrus.New()
	log.SetOutput(io.Discard)
	return New(Options{Config: cfg, Store: store, Jira: jc, Telegram: tg, Log: log}), tg, jc
}

func dm(t *testing.T, from int64, text string) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"update_id": 1, "message": map[string]any{
		"message_id": 10, "date": 1, "text": text,
		"chat":     map[string]any{"id": from, "type": "private"},
		"from":     map[string]any{"id": from, "first_name": "U"},
		"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": strings.IndexByte(text+" ", ' ')}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// A refusal is a courtesy message (no patience: it never waits for the
// limits, nor holds up the queue) and Jira is not asked; an answer to an
// allowed user may wait a little for the limits.
func TestRefusalIsCourtesyAnswerMayWait(t *testing.T) {
	b, tg, jc := newMemBot(t, "ALLOWED_USERS=501", "JIRA_PROJECT=OPS")
	ctx := context.Background()
	if err := b.handleUpdate(ctx, dm(t, 777, "/issue OPS-1")); err != nil {
		t.Fatal(err)
	}
	if len(tg.sent) != 1 || tg.sent[0].Patience != 0 || !strings.Contains(tg.sent[0].HTML, "777") || jc.calls != 0 {
		t.Fatalf("refusal: sent %+v, jira calls %d", tg.sent, jc.calls)
	}
	if err := b.handleUpdate(ctx, dm(t, 501, "/issue OPS-1")); err != nil {
		t.Fatal(err)
	}
	card := tg.sent[1]
	if card.Patience == 0 || card.Chat != 501 || card.ReplyTo != 10 || !strings.Contains(card.HTML, "Disk full") || card.Keyboard == nil {
		t.Fatalf("card: %+v", card)
	}
}

// A panic while handling an item dead-letters that item with the panic's
// message; the worker goes on.
func TestPanicDeadLettersTheItem(t *testing.T) {
	b, _, _ := newMemBot(t, "ALLOWED_USERS=501", "JIRA_PROJECT=OPS")
	store := b.store.(*storage.Store)
	// memJira has no SearchPage: calling it panics (nil interface).
	if _, _, err := store.Enqueue(storage.Item{Source: telegram.Source, Key: "chat:501", Payload: dm(t, 501, "/search project = OPS")}, "", 0); err != nil {
		t.Fatal(err)
	}
	b.drain(context.Background())
	dead, _ := store.Dead()
	if len(dead) != 1 || !strings.Contains(dead[0].LastError, "panic") {
		t.Fatalf("dead letters: %+v", dead)
	}
}

// creatingJira refuses to create issues with a 503: Jira is away.
type creatingJira struct{ *memJira }

func (creatingJira) CreateIssue(context.Context, jira.NewIssue) (jira.Created, error) {
	return jira.Created{}, &jira.Error{Op: "create issue", Status: 503}
}

func (creatingJira) FindByOriginSince(context.Context, string, string, time.Time, []string) (jira.Created, bool, error) {
	return jira.Created{}, false, nil
}

// A post that still cannot become an issue after the retry budget is
// dead-lettered and the chat is told, once; before that it is retried.
func TestRetryBudgetGivesUpAndTellsTheChat(t *testing.T) {
	const channel = int64(-1001000000001)
	b, tg, jc := newMemBot(t, "CHAT_PROJECTS=-1001000000001:OPS", "RETRY_BUDGET=1h")
	b.jira = creatingJira{jc}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return now }
	store := b.store.(*storage.Store)
	post, _ := json.Marshal(map[string]any{"update_id": 7, "channel_post": map[string]any{
		"message_id": 3, "date": 1, "text": "Disk full", "chat": map[string]any{"id": channel, "type": "channel", "title": "Ops"}}})
	enqueue := func(received time.Time) {
		t.Helper()
		if _, _, err := store.Enqueue(storage.Item{Source: telegram.Source, Key: "chat:x", Payload: post, Received: received}, "", 0); err != nil {
			t.Fatal(err)
		}
	}
	enqueue(now.Add(-30 * time.Minute))
	b.drain(context.Background())
	if q, dead := store.Depth(); q != 1 || dead != 0 || len(tg.sent) != 0 {
		t.Fatalf("within the budget: queued %d, dead %d, sent %+v", q, dead, tg.sent)
	}
	now = now.Add(2 * time.Hour)
	b.drain(context.Background())
	dead, _ := store.Dead()
	if len(dead) != 1 || !strings.Contains(dead[0].LastError, "RETRY_BUDGET") {
		t.Fatalf("dead letters: %+v", dead)
	}
	if len(tg.sent) != 1 || tg.sent[0].Chat != channel || tg.sent[0].ReplyTo != 3 || !strings.Contains(tg.sent[0].HTML, "gave up") {
		t.Fatalf("sent %+v", tg.sent)
	}
}
