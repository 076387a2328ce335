package telegram

import (
	"context"
	"strconv"

	tele "gopkg.in/telebot.v3"
)

// AllowedUpdates are the update kinds jtbot asks Telegram for (a fresh
// slice: callers may keep it).
func AllowedUpdates() []string {
	return []string{"message", "edited_message", "channel_post", "edited_channel_post", "callback_query"}
}

// WebhookInfo is getWebhookInfo's answer.
type WebhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	LastErrorDate        int64    `json:"last_error_date"`
	LastErrorMessage     string   `json:"last_error_message"`
	AllowedUpdates       []string `json:"allowed_updates"`
}

// WebhookInfo reads the webhook's state (getWebhookInfo).
func (c *Client) WebhookInfo(ctx context.Context) (WebhookInfo, error) {
	var w WebhookInfo
	return w, c.call(ctx, "getWebhookInfo", nil, &w)
}

// Webhook is what setWebhook registers.
type Webhook struct {
	URL    string
	Secret string
	// Cert is a certificate file to upload (a self-signed HTTPS listener).
	Cert string
}

// SetWebhook registers the webhook for the update kinds jtbot handles.
func (c *Client) SetWebhook(ctx context.Context, w Webhook) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hook := &tele.Webhook{
		Endpoint:       &tele.WebhookEndpoint{PublicURL: w.URL, Cert: w.Cert},
		SecretToken:    w.Secret,
		AllowedUpdates: AllowedUpdates(),
	}
	return c.wrap("setWebhook", c.tg.SetWebhook(hook))
}

// DeleteWebhook removes the webhook; pending updates are kept unless drop.
func (c *Client) DeleteWebhook(ctx context.Context, drop bool) error {
	return c.call(ctx, "deleteWebhook", map[string]string{"drop_pending_updates": strconv.FormatBool(drop)}, nil)
}

// MemberStatus is a user's status in a chat (getChatMember): "creator",
// "administrator", "member", "restricted", "left" or "kicked".
func (c *Client) MemberStatus(ctx context.Context, chat, user int64) (string, error) {
	var m struct {
		Status string `json:"status"`
	}
	err := c.call(ctx, "getChatMember", map[string]string{
		"chat_id": strconv.FormatInt(chat, 10), "user_id": strconv.FormatInt(user, 10)}, &m)
	return m.Status, err
}

// IsMember reports whether user is in chat now (getChatMember): a
// "restricted" user is one only while is_member says so.
func (c *Client) IsMember(ctx context.Context, chat, user int64) (bool, error) {
	var m struct {
		Status   string `json:"status"`
		IsMember bool   `json:"is_member"`
	}
	err := c.call(ctx, "getChatMember", map[string]string{
		"chat_id": strconv.FormatInt(chat, 10), "user_id": strconv.FormatInt(user, 10)}, &m)
	switch m.Status {
	case "creator", "administrator", "member":
		return err == nil, err
	case "restricted":
		return err == nil && m.IsMember, err
	}
	return false, err
}

// LinkedChat is a channel's discussion group, or a discussion group's
// channel (getChat's linked_chat_id); 0 when there is none.
func (c *Client) LinkedChat(ctx context.Context, chat int64) (int64, error) {
	var info struct {
		Linked int64 `json:"linked_chat_id"`
	}
	err := c.call(ctx, "getChat", map[string]string{"chat_id": strconv.FormatInt(chat, 10)}, &info)
	return info.Linked, err
}

// ResolveChat reads a chat named by "@username" or by its ID (getChat
// takes either as chat_id).
func (c *Client) ResolveChat(ctx context.Context, ref string) (tele.Chat, error) {
	var ch tele.Chat
	return ch, c.call(ctx, "getChat", map[string]string{"chat_id": ref}, &ch)
}

// Chat reads a chat (getChat).
func (c *Client) Chat(ctx context.Context, chat int64) (tele.Chat, error) {
	var ch tele.Chat
	return ch, c.call(ctx, "getChat", map[string]string{"chat_id": strconv.FormatInt(chat, 10)}, &ch)
}
