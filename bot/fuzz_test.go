package bot

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// FuzzTelegramUpdate drives /webhook/telegram/ (the telegram adapter's
// handler) with random bodies and the
// right secret: every answer is 200, 400 or 413, never a panic or 5xx; and
// whatever is queued decodes and passes through the message helpers.
func FuzzTelegramUpdate(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"update_id":1,"message":{"message_id":1,"chat":{"id":1},"text":"/new@x\n\xff","entities":[{"type":"bold","offset":-5,"length":99}]}}`))
	f.Add([]byte(`{"update_id":"1"}`))
	f.Add([]byte(`{"update_id":2,"channel_post":{"chat":{"id":"x"}}}`))

	cfg, err := config.Load([]string{"TELEGRAM_HOOK_TOKEN=1:fuzz", "JIRA_SERVER=http://127.0.0.1:1", "JIRA_TOKEN=x"}, true)
	if err != nil {
		f.Fatal(err)
	}
	store, err := storage.Open(filepath.Join(f.TempDir(), "jtbot.db"), storage.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	log := logrus.New()
	log.SetOutput(io.Discard)
	h := telegram.NewInbound(store, cfg.TelegramWebhookSecret, nil, log).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/webhook/telegram/", bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", cfg.TelegramWebhookSecret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		var u tele.Update
		if rec.Code != 200 || json.Unmarshal(body, &u) != nil {
			return
		}
		for _, m := range []*tele.Message{u.Message, u.ChannelPost, u.EditedMessage, u.EditedChannelPost} {
			if m == nil || m.Chat == nil {
				continue
			}
			parseCommand(m, "jtbot_test_bot")
			refOf(m)
			Summary(messageText(m))
			hashtags(messageText(m), messageEntities(m))
			MessageURL(m.Chat, m.ID)
		}
	})
}
