package telegramtest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/telegram/telegramtest"
)

const (
	testToken = "123456:TEST-token"
	wait      = 5 * time.Second
)

var (
	forum = telegramtest.Chat{ID: -1001234567890, Type: "supergroup", Title: "Dev", IsForum: true}
	ann   = telegramtest.User{ID: 42, FirstName: "Ann", Username: "ann"}
)

// newBot starts a fake server and a real telebot client talking to it.
func newBot(t *testing.T) (*telegramtest.Server, *tele.Bot) {
	t.Helper()
	srv := telegramtest.NewServer(testToken)
	t.Cleanup(srv.Close)
	b, err := tele.NewBot(tele.Settings{
		URL:     srv.URL,
		Token:   testToken,
		Offline: false,
		Client:  &http.Client{Timeout: wait},
	})
	if err != nil {
		t.Fatalf("NewBot: %v", err)
	}
	return srv, b
}

func mustContain(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}
}

// pollResult is the outcome of a getUpdates call made in the background.
type pollResult struct {
	updates []tele.Update
	err     error
}

func pollAsync(b *tele.Bot, params map[string]string) <-chan pollResult {
	done := make(chan pollResult, 1)
	go func() {
		updates, err := rawUpdates(b, params)
		done <- pollResult{updates, err}
	}()
	return done
}

func rawUpdates(b *tele.Bot, params map[string]string) ([]tele.Update, error) {
	data, err := b.Raw("getUpdates", params)
	if err != nil {
		return nil, err
	}
	var resp struct{ Result []tele.Update }
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, err
	}
	return resp.Result, nil
}

func messageID(update map[string]any) int {
	for _, v := range update {
		if m, ok := v.(map[string]any); ok {
			if id, ok := m["message_id"].(int); ok {
				return id
			}
		}
	}
	return 0
}

func TestGetMe(t *testing.T) {
	srv, b := newBot(t)
	if b.Me.ID != 1000001 || b.Me.Username != "jtbot_test_bot" || b.Me.FirstName != "jtbot" || !b.Me.IsBot {
		t.Fatalf("Me = %+v", b.Me)
	}
	if srv.Bot().ID != b.Me.ID || srv.Token() != testToken {
		t.Fatalf("Bot() = %+v, Token() = %q", srv.Bot(), srv.Token())
	}
	if srv.CallCount("getMe") != 1 {
		t.Fatalf("getMe calls = %d", srv.CallCount("getMe"))
	}
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	srv := telegramtest.NewServer(testToken)
	defer srv.Close()
	_, err := tele.NewBot(tele.Settings{URL: srv.URL, Token: "999:other", Client: &http.Client{Timeout: wait}})
	if err != tele.ErrUnauthorized {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
}

func TestSendHTMLReplyInThread(t *testing.T) {
	srv, b := newBot(t)
	upd := srv.GroupMessage(forum, ann, "hello", 0)
	srv.Push(upd)
	origID := messageID(upd)

	m, err := b.Send(&tele.Chat{ID: forum.ID}, "<b>PROJ-1</b> &amp; done", &tele.SendOptions{
		ParseMode: tele.ModeHTML,
		ReplyTo:   &tele.Message{ID: origID},
		ThreadID:  7,
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m.Text != "PROJ-1 & done" || m.ThreadID != 7 || m.Sender == nil || m.Sender.ID != b.Me.ID {
		t.Fatalf("message = %+v", m)
	}
	if m.ReplyTo == nil || m.ReplyTo.ID != origID || m.ReplyTo.Text != "hello" || m.ReplyTo.Sender.ID != ann.ID {
		t.Fatalf("reply_to_message = %+v", m.ReplyTo)
	}
	if len(m.Entities) != 1 || m.Entities[0].Type != tele.EntityBold || m.Entities[0].Length != 6 {
		t.Fatalf("entities = %+v", m.Entities)
	}
	if m.ID == origID {
		t.Fatalf("bot message id %d collides with the incoming message", m.ID)
	}

	sent := srv.SentTo(forum.ID)
	if len(sent) != 1 {
		t.Fatalf("sent = %+v", sent)
	}
	want := telegramtest.SentMessage{ChatID: forum.ID, MessageID: m.ID, Text: "<b>PROJ-1</b> &amp; done",
		ParseMode: "HTML", ReplyTo: origID, ThreadID: 7}
	if got := sent[0]; got.ChatID != want.ChatID || got.MessageID != want.MessageID || got.Text != want.Text ||
		got.ParseMode != want.ParseMode || got.ReplyTo != want.ReplyTo || got.ThreadID != want.ThreadID {
		t.Fatalf("record = %+v, want %+v", got, want)
	}
}

func TestReplyToUnknownMessage(t *testing.T) {
	srv, b := newBot(t)
	chat := &tele.Chat{ID: forum.ID}
	_, err := b.Send(chat, "x", &tele.SendOptions{ReplyTo: &tele.Message{ID: 9999}})
	mustContain(t, err, "message to be replied not found")

	m, err := b.Send(chat, "y", &tele.SendOptions{ReplyTo: &tele.Message{ID: 9999}, AllowWithoutReply: true})
	if err != nil {
		t.Fatalf("Send with AllowWithoutReply: %v", err)
	}
	if m.ReplyTo != nil {
		t.Fatalf("reply_to_message = %+v, want none", m.ReplyTo)
	}
	if sent := srv.Sent(); len(sent) != 1 || sent[0].ReplyTo != 9999 {
		t.Fatalf("sent = %+v", sent)
	}

	// reply_parameters as a JSON object, chat_id as a JSON number.
	_, err = b.Raw("sendMessage", map[string]any{
		"chat_id":          forum.ID,
		"text":             "z",
		"reply_parameters": map[string]any{"message_id": m.ID},
	})
	if err != nil {
		t.Fatalf("reply_parameters: %v", err)
	}
	if sent := srv.Sent(); len(sent) != 2 || sent[1].ReplyTo != m.ID {
		t.Fatalf("sent = %+v", sent)
	}
}

func TestInvalidHTML(t *testing.T) {
	srv, b := newBot(t)
	_, err := b.Send(&tele.Chat{ID: forum.ID}, "PROJ-1 <foo>", tele.ModeHTML)
	mustContain(t, err, `can't parse entities: Unsupported start tag "foo" at byte offset 7`)
	_, err = b.Send(&tele.Chat{ID: forum.ID}, "a < b", tele.ModeHTML)
	mustContain(t, err, "can't parse entities")
	if len(srv.Sent()) != 0 {
		t.Fatalf("rejected messages were recorded: %+v", srv.Sent())
	}
}

func TestValidation(t *testing.T) {
	_, b := newBot(t)
	if _, err := b.Raw("sendMessage", map[string]string{"text": "x"}); err != tele.ErrEmptyChatID {
		t.Fatalf("no chat_id: %v", err)
	}
	_, err := b.Send(&tele.Chat{ID: 5}, "   ")
	mustContain(t, err, "message text is empty")
	_, err = b.Send(&tele.Chat{ID: 5}, strings.Repeat("x", 4097))
	if err != tele.ErrTooLongMessage {
		t.Fatalf("long message: %v", err)
	}
	if _, err := b.Send(&tele.Chat{ID: 5}, strings.Repeat("я", 4096)); err != nil {
		t.Fatalf("4096 characters: %v", err)
	}
	_, err = b.Send(&tele.Chat{ID: 5}, "x", &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{
		{Text: "a", Data: strings.Repeat("d", 65)},
	}}})
	if err != tele.ErrBadButtonData {
		t.Fatalf("long callback data: %v", err)
	}
}

func TestFloodError(t *testing.T) {
	srv, b := newBot(t)
	srv.FailNext("sendMessage", 1, http.StatusTooManyRequests, "", 3)
	_, err := b.Send(&tele.Chat{ID: 5}, "hi")
	var flood tele.FloodError
	if !errors.As(err, &flood) || flood.RetryAfter != 3 {
		t.Fatalf("err = %#v, want FloodError with RetryAfter 3", err)
	}
	if _, err := b.Send(&tele.Chat{ID: 5}, "hi"); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if srv.CallCount("sendMessage") != 2 || len(srv.Sent()) != 1 {
		t.Fatalf("calls = %d, sent = %d", srv.CallCount("sendMessage"), len(srv.Sent()))
	}
}

func TestFailNextAnyMethodSparesGetUpdates(t *testing.T) {
	srv, b := newBot(t)
	srv.FailNext("", 1, http.StatusBadGateway, "", 0)
	if _, err := rawUpdates(b, map[string]string{"timeout": "0"}); err != nil {
		t.Fatalf("getUpdates failed: %v", err)
	}
	_, err := b.Send(&tele.Chat{ID: 5}, "hi")
	mustContain(t, err, "Bad Gateway (502)")
}

func TestChatError(t *testing.T) {
	srv, b := newBot(t)
	srv.SetChatError(ann.ID, http.StatusForbidden, "Forbidden: bot was blocked by the user")
	if _, err := b.Send(&tele.User{ID: ann.ID}, "hi"); err != tele.ErrBlockedByUser {
		t.Fatalf("err = %v, want ErrBlockedByUser", err)
	}
	srv.SetChatError(ann.ID, 0, "")
	if _, err := b.Send(&tele.User{ID: ann.ID}, "hi"); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}

func TestLongPolling(t *testing.T) {
	srv, b := newBot(t)
	done := pollAsync(b, map[string]string{"offset": "0", "timeout": "2"})
	if !srv.WaitFor(wait, func() bool { return srv.CallCount("getUpdates") == 1 }) {
		t.Fatal("getUpdates never arrived")
	}
	select {
	case r := <-done:
		t.Fatalf("getUpdates returned before any update: %+v", r)
	default:
	}

	id := srv.Push(srv.PrivateMessage(ann, "/start now"))
	if id != 1 {
		t.Fatalf("first update_id = %d, want 1", id)
	}
	var r pollResult
	select {
	case r = <-done:
	case <-time.After(wait):
		t.Fatal("long poll did not return after Push")
	}
	if r.err != nil || len(r.updates) != 1 {
		t.Fatalf("poll = %+v", r)
	}
	u := r.updates[0]
	if u.ID != 1 || u.Message == nil || u.Message.Text != "/start now" || u.Message.Chat.Type != tele.ChatPrivate {
		t.Fatalf("update = %+v", u)
	}
	if len(u.Message.Entities) != 1 || u.Message.Entities[0].Type != tele.EntityCommand || u.Message.Entities[0].Length != 6 {
		t.Fatalf("entities = %+v", u.Message.Entities)
	}

	// Without a confirming offset the update is delivered again.
	again, err := rawUpdates(b, map[string]string{"timeout": "0"})
	if err != nil || len(again) != 1 {
		t.Fatalf("unconfirmed: %v %+v", err, again)
	}
	// offset = id+1 confirms it for good.
	confirmed, err := rawUpdates(b, map[string]string{"offset": "2", "timeout": "0"})
	if err != nil || len(confirmed) != 0 || srv.PendingUpdates() != 0 {
		t.Fatalf("confirmed: %v %+v pending %d", err, confirmed, srv.PendingUpdates())
	}
	after, err := rawUpdates(b, map[string]string{"offset": "0", "timeout": "0"})
	if err != nil || len(after) != 0 {
		t.Fatalf("confirmed update came back: %v %+v", err, after)
	}
}

func TestLongPollingLimitAndAllowedUpdates(t *testing.T) {
	srv, b := newBot(t)
	srv.Push(srv.PrivateMessage(ann, "one"))
	srv.Push(map[string]any{"callback_query": map[string]any{"id": "q1", "from": ann, "data": "x"}})
	srv.Push(json.RawMessage(`{"update_id": 10, "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "three"}}`))

	got, err := rawUpdates(b, map[string]string{"limit": "1", "timeout": "0", "allowed_updates": `["message"]`})
	if err != nil || len(got) != 1 || got[0].Message.Text != "one" {
		t.Fatalf("limit 1: %v %+v", err, got)
	}
	got, err = rawUpdates(b, map[string]string{"offset": "2", "timeout": "0"})
	if err != nil || len(got) != 1 || got[0].ID != 10 {
		t.Fatalf("allowed_updates kept from the previous call: %v %+v", err, got)
	}
	if next := srv.Push(srv.PrivateMessage(ann, "four")); next != 11 {
		t.Fatalf("update_id after 10 = %d", next)
	}
}

func TestLongPollingTimeout(t *testing.T) {
	_, b := newBot(t)
	start := time.Now()
	got, err := rawUpdates(b, map[string]string{"timeout": "1"})
	if err != nil || len(got) != 0 {
		t.Fatalf("poll: %v %+v", err, got)
	}
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
		t.Fatalf("returned after %v, want about 1s", elapsed)
	}
}

func TestTelebotPollerEndToEnd(t *testing.T) {
	srv := telegramtest.NewServer(testToken)
	defer srv.Close()
	b, err := tele.NewBot(tele.Settings{
		URL:    srv.URL,
		Token:  testToken,
		Poller: &tele.LongPoller{Timeout: time.Second},
		Client: &http.Client{Timeout: wait},
	})
	if err != nil {
		t.Fatal(err)
	}
	replied := make(chan error, 1)
	b.Handle(tele.OnText, func(c tele.Context) error {
		err := c.Reply("echo: " + c.Text())
		replied <- err
		return err
	})
	started := make(chan struct{})
	go func() {
		defer close(started)
		b.Start()
	}()
	defer func() {
		b.Stop()
		<-started
	}()

	srv.Push(srv.GroupMessage(forum, ann, "ping", 0))
	sent, ok := srv.WaitSent(wait, 1)
	if !ok || sent[0].Text != "echo: ping" || sent[0].ReplyTo == 0 || sent[0].ChatID != forum.ID {
		t.Fatalf("sent = %+v", sent)
	}
	// Let the handler see its answer before Stop cancels requests.
	select {
	case err := <-replied:
		if err != nil {
			t.Fatalf("Reply: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("handler never finished")
	}
}

func TestCloseEndsLongPoll(t *testing.T) {
	srv, b := newBot(t)
	done := pollAsync(b, map[string]string{"timeout": "30"})
	if !srv.WaitFor(wait, func() bool { return srv.CallCount("getUpdates") == 1 }) {
		t.Fatal("getUpdates never arrived")
	}
	srv.Close()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Close left the long poll hanging")
	}
	srv.Close() // second call is a no-op
}

func TestWebhookDelivery(t *testing.T) {
	srv, b := newBot(t)
	var hits atomic.Int32
	bodies := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != "s3cret" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(r.Body)
		bodies <- string(body)
	}))
	defer hook.Close()
	defer srv.Close() // stop delivery before the hook server goes away

	err := b.SetWebhook(&tele.Webhook{
		Endpoint:       &tele.WebhookEndpoint{PublicURL: hook.URL},
		SecretToken:    "bad token!",
		AllowedUpdates: []string{"message"},
	})
	mustContain(t, err, "secret token contains unallowed characters")

	err = b.SetWebhook(&tele.Webhook{
		Endpoint:       &tele.WebhookEndpoint{PublicURL: hook.URL},
		SecretToken:    "s3cret",
		AllowedUpdates: []string{"message"},
	})
	if err != nil {
		t.Fatalf("SetWebhook: %v", err)
	}
	_, err = rawUpdates(b, map[string]string{"timeout": "0"})
	mustContain(t, err, "Conflict: can't use getUpdates method while webhook is active")

	id := srv.Push(srv.PrivateMessage(ann, "via hook"))
	var body string
	select {
	case body = <-bodies:
	case <-time.After(wait):
		t.Fatal("webhook never received the update")
	}
	var u tele.Update
	if err := json.Unmarshal([]byte(body), &u); err != nil || u.ID != int(id) || u.Message.Text != "via hook" {
		t.Fatalf("delivered %s (%v)", body, err)
	}
	if hits.Load() != 2 {
		t.Fatalf("hits = %d, want a failed try and a retry", hits.Load())
	}
	if !srv.WaitFor(wait, func() bool { return srv.PendingUpdates() == 0 }) {
		t.Fatal("delivered update still pending")
	}

	info, err := b.Webhook()
	if err != nil {
		t.Fatalf("getWebhookInfo: %v", err)
	}
	if info.Listen != hook.URL || info.PendingUpdates != 0 || info.ErrorUnixtime == 0 ||
		info.ErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" ||
		len(info.AllowedUpdates) != 1 || info.MaxConnections != 40 {
		t.Fatalf("webhook info = %+v", info)
	}
	if srv.LastWebhookError() != info.ErrorMessage {
		t.Fatalf("LastWebhookError = %q", srv.LastWebhookError())
	}

	if err := b.RemoveWebhook(); err != nil {
		t.Fatalf("RemoveWebhook: %v", err)
	}
	if _, err := rawUpdates(b, map[string]string{"timeout": "0"}); err != nil {
		t.Fatalf("getUpdates after deleteWebhook: %v", err)
	}
}

func TestWebhookConnectionRefused(t *testing.T) {
	srv, b := newBot(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if err := b.SetWebhook(&tele.Webhook{Endpoint: &tele.WebhookEndpoint{PublicURL: gone.URL}}); err != nil {
		t.Fatal(err)
	}
	srv.Push(srv.PrivateMessage(ann, "lost"))
	if !srv.WaitFor(wait, func() bool { return srv.LastWebhookError() == "Connection refused" }) {
		t.Fatalf("last error = %q", srv.LastWebhookError())
	}
	if srv.PendingUpdates() != 1 {
		t.Fatalf("pending = %d, want the update kept for retry", srv.PendingUpdates())
	}
	// drop_pending_updates forgets it.
	if err := b.RemoveWebhook(true); err != nil {
		t.Fatal(err)
	}
	if srv.PendingUpdates() != 0 {
		t.Fatalf("pending after drop = %d", srv.PendingUpdates())
	}
}

func TestGetFileAndDownload(t *testing.T) {
	srv, b := newBot(t)
	srv.AddFile("FILE1", "documents/report.txt", []byte("hello file"))
	rc, err := b.File(&tele.File{FileID: "FILE1"})
	if err != nil {
		t.Fatalf("File: %v", err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "hello file" {
		t.Fatalf("content = %q", data)
	}
	f, err := b.FileByID("FILE1")
	if err != nil || f.FilePath != "documents/report.txt" || f.FileSize != 10 {
		t.Fatalf("getFile = %+v, %v", f, err)
	}

	_, err = b.FileByID("nope")
	mustContain(t, err, "invalid file_id")

	srv.AddFile("BIG", "documents/big.bin", nil)
	srv.SetFileSize("BIG", 21<<20)
	_, err = b.FileByID("BIG")
	mustContain(t, err, "file is too big")
}

func TestSendDocumentAndPhoto(t *testing.T) {
	srv, b := newBot(t)
	doc := &tele.Document{File: tele.FromReader(strings.NewReader("data")), FileName: "a.txt", Caption: "<i>cap</i>"}
	m, err := b.Send(&tele.Chat{ID: forum.ID}, doc, tele.ModeHTML)
	if err != nil {
		t.Fatalf("sendDocument: %v", err)
	}
	if m.Document == nil || m.Document.FileID == "" || m.Document.FileName != "a.txt" || m.Caption != "cap" {
		t.Fatalf("message = %+v document = %+v", m, m.Document)
	}
	if sent := srv.Sent(); len(sent) != 1 || sent[0].Text != "<i>cap</i>" {
		t.Fatalf("sent = %+v", sent)
	}
	calls := srv.Calls()
	last := calls[len(calls)-1]
	if last.Method != "sendDocument" || last.Uploads["document"].FileName != "a.txt" || string(last.Uploads["document"].Content) != "data" {
		t.Fatalf("call = %+v", last)
	}
	rc, err := b.File(&tele.File{FileID: m.Document.FileID})
	if err != nil {
		t.Fatalf("download upload: %v", err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "data" {
		t.Fatalf("content = %q", data)
	}

	p, err := b.Send(&tele.Chat{ID: forum.ID}, &tele.Photo{File: tele.File{FileID: m.Document.FileID}, Caption: "pic"})
	if err != nil || p.Photo == nil || p.Caption != "pic" {
		t.Fatalf("sendPhoto by file_id: %+v %v", p, err)
	}
	_, err = b.Send(&tele.Chat{ID: forum.ID}, &tele.Photo{File: tele.File{FileID: "unknown"}})
	if err != tele.ErrWrongFileID {
		t.Fatalf("unknown file_id: %v", err)
	}
}

func TestEditAndDelete(t *testing.T) {
	srv, b := newBot(t)
	chat := &tele.Chat{ID: forum.ID}
	markup := &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{{Text: "Open", Data: "open"}}}}
	m, err := b.Send(chat, "old", markup)
	if err != nil {
		t.Fatal(err)
	}
	if m.ReplyMarkup == nil || len(m.ReplyMarkup.InlineKeyboard) != 1 {
		t.Fatalf("reply markup not echoed: %+v", m.ReplyMarkup)
	}

	e, err := b.Edit(m, "<b>new</b>", tele.ModeHTML, markup)
	if err != nil || e.Text != "new" {
		t.Fatalf("Edit: %+v %v", e, err)
	}
	rec := srv.Sent()[0]
	if rec.Text != "<b>new</b>" || len(rec.Edits) != 1 || rec.Edits[0] != "old" || rec.ReplyMarkup == nil {
		t.Fatalf("record = %+v", rec)
	}
	if _, err := b.Edit(m, "<b>new</b>", tele.ModeHTML, markup); err != tele.ErrSameMessageContent {
		t.Fatalf("same edit: %v", err)
	}
	// Without reply_markup the keyboard goes away, as in the real API.
	if _, err := b.Edit(m, "<b>new</b>", tele.ModeHTML); err != nil {
		t.Fatalf("edit dropping markup: %v", err)
	}
	if rec := srv.Sent()[0]; rec.ReplyMarkup != nil || len(rec.Edits) != 2 {
		t.Fatalf("record = %+v", rec)
	}
	if _, err := b.EditReplyMarkup(m, markup); err != nil {
		t.Fatalf("EditReplyMarkup: %v", err)
	}
	if rec := srv.Sent()[0]; rec.ReplyMarkup == nil || len(rec.Edits) != 2 {
		t.Fatalf("record = %+v", rec)
	}

	_, err = b.Edit(&tele.Message{ID: 999, Chat: chat}, "x")
	mustContain(t, err, "message to edit not found")

	if err := b.Delete(m); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if !srv.Sent()[0].Deleted {
		t.Fatal("record not marked deleted")
	}
	if err := b.Delete(m); err != tele.ErrNotFoundToDelete {
		t.Fatalf("second delete: %v", err)
	}
	_, err = b.Edit(m, "again")
	mustContain(t, err, "message to edit not found")
}

func TestCallbackQueryAnswer(t *testing.T) {
	srv, b := newBot(t)
	m, err := b.Send(&tele.Chat{ID: forum.ID}, "pick", &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{{{Text: "A", Data: "a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	upd := srv.CallbackQuery(ann, forum.ID, m.ID, "a")
	srv.Push(upd)
	id := upd["callback_query"].(map[string]any)["id"].(string)
	if err := b.Respond(&tele.Callback{ID: id}, &tele.CallbackResponse{Text: "ok"}); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if err := b.Respond(&tele.Callback{ID: id}); err != tele.ErrQueryTooOld {
		t.Fatalf("second answer: %v", err)
	}
}

func TestChatsAndMembers(t *testing.T) {
	srv, b := newBot(t)
	channel := telegramtest.Chat{ID: -1009876543210, Type: "channel", Title: "News", Username: "news"}
	srv.AddChat(channel)

	c, err := b.ChatByUsername("@news")
	if err != nil || c.ID != channel.ID || c.Title != "News" || c.Type != tele.ChatChannel {
		t.Fatalf("getChat: %+v %v", c, err)
	}
	_, err = b.ChatByUsername("@missing")
	if err != tele.ErrChatNotFound {
		t.Fatalf("unknown username: %v", err)
	}

	me, err := b.ChatMemberOf(&tele.Chat{ID: channel.ID}, b.Me)
	if err != nil || me.Role != tele.Administrator || !me.CanPostMessages {
		t.Fatalf("bot in channel: %+v %v", me, err)
	}
	// Someone who never wrote in the chat is not in it; writing makes a member.
	member, err := b.ChatMemberOf(&tele.Chat{ID: forum.ID}, &tele.User{ID: ann.ID})
	if err != nil || member.Role != tele.Left {
		t.Fatalf("stranger: %+v %v", member, err)
	}
	srv.Push(srv.GroupMessage(forum, ann, "hello", 0))
	member, err = b.ChatMemberOf(&tele.Chat{ID: forum.ID}, &tele.User{ID: ann.ID})
	if err != nil || member.Role != tele.Member {
		t.Fatalf("member after writing: %+v %v", member, err)
	}
	srv.SetChatMember(forum.ID, ann.ID, "left")
	member, err = b.ChatMemberOf(&tele.Chat{ID: forum.ID}, &tele.User{ID: ann.ID})
	if err != nil || member.Role != tele.Left {
		t.Fatalf("left member: %+v %v", member, err)
	}

	post := srv.ChannelPost(channel, "release")
	srv.Push(post)
	reply, err := b.Send(&tele.Chat{ID: channel.ID}, "noted", &tele.SendOptions{ReplyTo: &tele.Message{ID: messageID(post)}})
	if err != nil || reply.SenderChat == nil || reply.SenderChat.ID != channel.ID || reply.ReplyTo.Text != "release" {
		t.Fatalf("channel reply: %+v %v", reply, err)
	}
}

func TestCommands(t *testing.T) {
	_, b := newBot(t)
	if err := b.SetCommands([]tele.Command{{Text: "link", Description: "Link a Jira project"}}); err != nil {
		t.Fatalf("SetCommands: %v", err)
	}
	cmds, err := b.Commands()
	if err != nil || len(cmds) != 1 || cmds[0].Text != "link" {
		t.Fatalf("Commands: %+v %v", cmds, err)
	}
	err = b.SetCommands([]tele.Command{{Text: "Bad!", Description: "x"}})
	mustContain(t, err, "BOT_COMMAND_INVALID")
}

func TestWireFormats(t *testing.T) {
	srv, _ := newBot(t)
	base := srv.URL + "/bot" + testToken + "/"

	resp, err := http.PostForm(base+"sendMessage", url.Values{"chat_id": {"5"}, "text": {"form"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(base + "SENDMESSAGE?chat_id=5&text=query")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	body := `{"chat_id": 5, "text": "json", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}}`
	resp, err = http.Post(base+"sendMessage", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	sent := srv.SentTo(5)
	if len(sent) != 3 || sent[0].Text != "form" || sent[1].Text != "query" || sent[2].Text != "json" {
		t.Fatalf("sent = %+v", sent)
	}
	if string(sent[2].ReplyMarkup) != `{"inline_keyboard":[[{"text":"a","callback_data":"x"}]]}` {
		t.Fatalf("reply markup = %s", sent[2].ReplyMarkup)
	}
	calls := srv.Calls()
	if last := calls[len(calls)-1]; last.Params["chat_id"] != "5" || last.Method != "sendMessage" {
		t.Fatalf("call = %+v", last)
	}
	if srv.CallCount("sendMessage") != 3 {
		t.Fatalf("sendMessage count = %d", srv.CallCount("sendMessage"))
	}

	checkError := func(path string, status int, want string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != status || strings.TrimSpace(string(data)) != want {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, data)
		}
	}
	checkError("/bot"+testToken+"/noSuchMethod", 404, `{"description":"Not Found","error_code":404,"ok":false}`)
	checkError("/botWRONG/getMe", 401, `{"description":"Unauthorized","error_code":401,"ok":false}`)
	checkError("/file/bot"+testToken+"/documents/none.txt", 404, `{"description":"Not Found","error_code":404,"ok":false}`)
}

func TestWaitForAndChanged(t *testing.T) {
	srv, b := newBot(t)
	changed := srv.Changed()
	go func() { _, _ = b.Send(&tele.Chat{ID: 5}, "later") }()
	select {
	case <-changed:
	case <-time.After(wait):
		t.Fatal("Changed never fired")
	}
	if _, ok := srv.WaitSent(wait, 1); !ok {
		t.Fatal("WaitSent timed out")
	}
	if srv.WaitFor(10*time.Millisecond, func() bool { return len(srv.Sent()) == 2 }) {
		t.Fatal("WaitFor reported a condition that never held")
	}
}

func TestReplyToBotMessageAndPushForms(t *testing.T) {
	srv, b := newBot(t)
	m, err := b.Send(&tele.Chat{ID: forum.ID}, "PROJ-7 created")
	if err != nil {
		t.Fatal(err)
	}
	// A user answers the bot's notification.
	reply := srv.GroupMessage(forum, ann, "looks good", m.ID)
	embedded := reply["message"].(map[string]any)["reply_to_message"].(map[string]any)
	if embedded["text"] != "PROJ-7 created" {
		t.Fatalf("reply_to_message = %+v", embedded)
	}
	srv.Push(reply)

	// Other ways to push: a telebot struct and raw bytes with an id.
	srv.Push(tele.Update{Message: &tele.Message{ID: srv.NextMessageID(5), Chat: &tele.Chat{ID: 5, Type: tele.ChatPrivate}, Text: "struct"}})
	if id := srv.Push([]byte(`{"update_id":50,"message":{"message_id":900,"date":1,"chat":{"id":5,"type":"private"},"text":"bytes"}}`)); id != 50 {
		t.Fatalf("explicit update_id = %d", id)
	}
	if got := srv.NextMessageID(5); got != 901 {
		t.Fatalf("NextMessageID after pushed id 900 = %d", got)
	}

	got, err := rawUpdates(b, map[string]string{"timeout": "0"})
	if err != nil || len(got) != 3 {
		t.Fatalf("updates: %v %+v", err, got)
	}
	if r := got[0].Message.ReplyTo; r == nil || r.ID != m.ID || r.Sender.ID != b.Me.ID {
		t.Fatalf("reply_to_message = %+v", r)
	}
	if got[1].ID != 2 || got[1].Message.Text != "struct" || got[2].ID != 50 {
		t.Fatalf("updates = %+v", got)
	}
	// The pushed message can be replied to.
	if _, err := b.Send(&tele.Chat{ID: 5}, "ack", &tele.SendOptions{ReplyTo: &tele.Message{ID: 900}}); err != nil {
		t.Fatalf("reply to pushed message: %v", err)
	}
}

func TestWebhookCertificateUpload(t *testing.T) {
	srv, b := newBot(t)
	cert := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := b.SetWebhook(&tele.Webhook{Endpoint: &tele.WebhookEndpoint{PublicURL: "https://bot.example/hook", Cert: cert}})
	if err != nil {
		t.Fatalf("SetWebhook: %v", err)
	}
	info, err := b.Webhook()
	if err != nil || !info.HasCustomCert || info.Listen != "https://bot.example/hook" {
		t.Fatalf("info = %+v %v", info, err)
	}
	calls := srv.Calls()
	if up := calls[len(calls)-2].Uploads["certificate"]; string(up.Content) != "-----BEGIN CERTIFICATE-----" {
		t.Fatalf("certificate upload = %+v", up)
	}
}

func TestEditCaption(t *testing.T) {
	srv, b := newBot(t)
	srv.AddFile("PIC", "photos/p.jpg", []byte("jpeg"))
	m, err := b.Send(&tele.Chat{ID: 5}, &tele.Photo{File: tele.File{FileID: "PIC"}, Caption: "one"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditCaption(m, "two"); err != nil {
		t.Fatalf("EditCaption: %v", err)
	}
	_, err = b.Edit(m, "text")
	mustContain(t, err, "there is no text in the message to edit")
	if rec := srv.Sent()[0]; rec.Text != "two" || len(rec.Edits) != 1 {
		t.Fatalf("record = %+v", rec)
	}
}
