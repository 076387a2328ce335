package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jtbot/jtbot/bot"
	"github.com/jtbot/jtbot/config"
	tele "gopkg.in/telebot.v3"
)

// telegramAdmin is the Bot API as the operator's commands need it.
type telegramAdmin struct {
	tg    *tele.Bot
	token string
}

func newTelegramAdmin(cfg *config.Config) (*telegramAdmin, error) {
	tg, err := tele.NewBot(tele.Settings{
		URL: cfg.TelegramAPIURL, Token: cfg.TelegramToken, Offline: true,
		Client: &http.Client{Timeout: 15 * time.Second},
	})
	if err != nil {
		return nil, err
	}
	return &telegramAdmin{tg: tg, token: cfg.TelegramToken}, nil
}

// call runs a Bot API method and decodes its result; errors never carry
// the token.
func (t *telegramAdmin) call(method string, params map[string]string, out any) error {
	data, err := t.tg.Raw(method, params)
	if err != nil {
		return bot.RedactToken(err, t.token)
	}
	var resp struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return fmt.Errorf("telegram: %s: unexpected answer", method)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp.Result, out)
}

func (t *telegramAdmin) me() (tele.User, error) {
	var u tele.User
	return u, t.call("getMe", nil, &u)
}

// webhookInfo is getWebhookInfo's answer.
type webhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	LastErrorDate        int64    `json:"last_error_date"`
	LastErrorMessage     string   `json:"last_error_message"`
	AllowedUpdates       []string `json:"allowed_updates"`
}

func (t *telegramAdmin) webhookInfo() (webhookInfo, error) {
	var w webhookInfo
	return w, t.call("getWebhookInfo", nil, &w)
}

func (t *telegramAdmin) setWebhook(url, secret string) error {
	allowed, _ := json.Marshal(bot.AllowedUpdates)
	return t.call("setWebhook", map[string]string{"url": url, "secret_token": secret, "allowed_updates": string(allowed)}, nil)
}

func (t *telegramAdmin) deleteWebhook() error {
	return t.call("deleteWebhook", map[string]string{"drop_pending_updates": "false"}, nil)
}

func (t *telegramAdmin) memberStatus(chatID, userID int64) (string, error) {
	var m struct {
		Status string `json:"status"`
	}
	err := t.call("getChatMember", map[string]string{"chat_id": strconv.FormatInt(chatID, 10), "user_id": strconv.FormatInt(userID, 10)}, &m)
	return m.Status, err
}

func (t *telegramAdmin) chat(chatID int64) (tele.Chat, error) {
	var c tele.Chat
	return c, t.call("getChat", map[string]string{"chat_id": strconv.FormatInt(chatID, 10)}, &c)
}
