package telegramtest

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SentMessage is the record of one message the bot sent.
type SentMessage struct {
	ChatID    int64
	MessageID int
	Text      string // text or caption exactly as sent (markup included)
	ParseMode string
	ReplyTo   int // from reply_to_message_id or reply_parameters.message_id
	ThreadID  int
	// ReplyMarkup is the reply_markup parameter as sent (or as last edited);
	// nil when there was none.
	ReplyMarkup json.RawMessage
	Edits       []string // earlier texts, oldest first
	Deleted     bool
}

type msgKey struct {
	chat int64
	id   int
}

// storedMessage is a message the server knows, sent by the bot or pushed.
// obj is never mutated once stored (edits store a copy), so it can be shared
// with responses that are encoded outside the lock.
type storedMessage struct {
	obj     map[string]any
	sent    int // index in Server.sent; -1 for incoming messages
	deleted bool
	markup  string // canonical inline keyboard JSON, "" when none
}

// Text limits of the real API, in characters after entity parsing.
const (
	maxTextLen    = 4096
	maxCaptionLen = 1024
)

// Sent returns every message the bot sent, in order, with edits applied.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SentMessage, len(s.sent))
	for i, m := range s.sent {
		out[i] = copySent(m)
	}
	return out
}

// SentTo returns the messages the bot sent to chatID, in order.
func (s *Server) SentTo(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SentMessage
	for _, m := range s.sent {
		if m.ChatID == chatID {
			out = append(out, copySent(m))
		}
	}
	return out
}

func copySent(m SentMessage) SentMessage {
	m.Edits = slices.Clone(m.Edits)
	m.ReplyMarkup = slices.Clone(m.ReplyMarkup)
	return m
}

// NextMessageID allocates a message id in chatID. Ids are shared with the
// messages the bot sends, so they never collide.
func (s *Server) NextMessageID(chatID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allocMessageIDLocked(chatID)
}

func (s *Server) allocMessageIDLocked(chatID int64) int {
	s.lastMsgID[chatID]++
	return s.lastMsgID[chatID]
}

// targetChatLocked resolves chat_id for a send, edit or delete, applying
// SetChatError.
func (s *Server) targetChatLocked(r *request) (Chat, *apiError) {
	chat, e := s.chatParamLocked(r)
	if e != nil {
		return Chat{}, e
	}
	if e := s.chatErrors[chat.ID]; e != nil {
		return Chat{}, e
	}
	return chat, nil
}

// chatParamLocked resolves the chat_id parameter (a number or @username)
// with the Bot API's answers for an empty or unknown one.
func (s *Server) chatParamLocked(r *request) (Chat, *apiError) {
	ref := strings.TrimSpace(r.str("chat_id"))
	if ref == "" {
		return Chat{}, badRequest("chat_id is empty")
	}
	chat, ok := s.chatLocked(ref)
	if !ok {
		return Chat{}, badRequest("chat not found")
	}
	return chat, nil
}

// formatted is text after parse_mode processing.
type formatted struct {
	plain    string
	entities []entity
}

// format applies parse_mode (or explicit entities) to text.
// Markdown modes are not parsed: the text is kept as is.
func format(text, parseMode, entitiesJSON string) (formatted, *apiError) {
	if !utf8.ValidString(text) {
		return formatted{}, badRequest("text must be encoded in UTF-8")
	}
	switch strings.ToLower(parseMode) {
	case "":
		f := formatted{plain: text}
		if entitiesJSON != "" && entitiesJSON != "null" {
			if json.Unmarshal([]byte(entitiesJSON), &f.entities) != nil {
				return formatted{}, badRequest("can't parse entities JSON object")
			}
		}
		return f, nil
	case "html":
		plain, entities, err := parseHTML(text)
		if err != nil {
			return formatted{}, badRequest(err.Error())
		}
		return formatted{plain: plain, entities: entities}, nil
	case "markdown", "markdownv2":
		return formatted{plain: text}, nil
	}
	return formatted{}, badRequest("unsupported parse_mode")
}

// keyboard is a validated reply_markup parameter.
type keyboard struct {
	raw    json.RawMessage // as sent, nil when absent
	inline any             // inline keyboard object echoed in messages
	canon  string          // canonical JSON of inline, for "not modified" checks
}

func parseMarkup(v string) (keyboard, *apiError) {
	if v == "" || v == "null" {
		return keyboard{}, nil
	}
	var obj map[string]any
	if json.Unmarshal([]byte(v), &obj) != nil || obj == nil {
		return keyboard{}, badRequest("can't parse reply keyboard markup JSON object")
	}
	k := keyboard{raw: json.RawMessage(v)}
	rows, _ := obj["inline_keyboard"].([]any)
	if len(rows) == 0 {
		return k, nil
	}
	for _, row := range rows {
		buttons, ok := row.([]any)
		if !ok {
			return keyboard{}, badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
		}
		for _, b := range buttons {
			if e := checkButton(b); e != nil {
				return keyboard{}, e
			}
		}
	}
	canon, _ := json.Marshal(map[string]any{"inline_keyboard": rows})
	k.inline = json.RawMessage(canon)
	k.canon = string(canon)
	return k, nil
}

// buttonActions are the fields of which an inline button needs one.
var buttonActions = []string{
	"url", "callback_data", "switch_inline_query", "switch_inline_query_current_chat",
	"switch_inline_query_chosen_chat", "login_url", "web_app", "callback_game", "pay", "copy_text",
}

func checkButton(b any) *apiError {
	button, ok := b.(map[string]any)
	if !ok {
		return badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
	}
	if data, ok := button["callback_data"].(string); ok && len(data) > 64 {
		return badRequest("BUTTON_DATA_INVALID")
	}
	for _, field := range buttonActions {
		if _, ok := button[field]; ok {
			return nil
		}
	}
	return badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
}

// replyTarget resolves reply_to_message_id / reply_parameters. It returns
// the requested id and the stored message to embed (nil when the reply was
// dropped because of allow_sending_without_reply).
func (s *Server) replyTargetLocked(chat Chat, r *request) (int, map[string]any, *apiError) {
	replyTo, _, _ := paramInt(r, "reply_to_message_id")
	allowWithout := paramBool(r, "allow_sending_without_reply")
	chatID := chat.ID
	if v := r.str("reply_parameters"); v != "" && v != "null" {
		var p struct {
			MessageID        int64           `json:"message_id"`
			ChatID           json.RawMessage `json:"chat_id"`
			AllowWithoutRepl bool            `json:"allow_sending_without_reply"`
		}
		if json.Unmarshal([]byte(v), &p) != nil {
			return 0, nil, badRequest("can't parse reply parameters JSON object")
		}
		replyTo = p.MessageID
		allowWithout = allowWithout || p.AllowWithoutRepl
		if ref, ok := jsonParam(p.ChatID); ok && ref != "" {
			other, found := s.chatLocked(ref)
			if !found {
				return 0, nil, badRequest("chat not found")
			}
			chatID = other.ID
		}
	}
	if replyTo == 0 {
		return 0, nil, nil
	}
	m := s.messages[msgKey{chatID, int(replyTo)}]
	if m == nil || m.deleted {
		if allowWithout {
			return int(replyTo), nil, nil
		}
		return 0, nil, badRequest("message to be replied not found")
	}
	return int(replyTo), withoutReply(m.obj), nil
}

// withoutReply copies a message for embedding as reply_to_message: the
// real API does not nest replies.
func withoutReply(obj map[string]any) map[string]any {
	c := maps.Clone(obj)
	delete(c, "reply_to_message")
	return c
}

// newBotMessageLocked builds the common part of a message sent by the bot.
func (s *Server) newBotMessageLocked(chat Chat, threadID int, reply map[string]any) map[string]any {
	msg := map[string]any{
		"message_id": s.allocMessageIDLocked(chat.ID),
		"chat":       chat,
		"date":       time.Now().Unix(),
	}
	// In channels the bot posts on behalf of the channel.
	if chat.Type == "channel" {
		msg["sender_chat"] = chat
	} else {
		msg["from"] = s.me
	}
	if threadID != 0 {
		msg["message_thread_id"] = threadID
		if chat.IsForum {
			msg["is_topic_message"] = true
		}
	}
	if reply != nil {
		msg["reply_to_message"] = reply
	}
	return msg
}

func setFormatted(msg map[string]any, textField, entitiesField string, f formatted) {
	delete(msg, textField)
	delete(msg, entitiesField)
	if f.plain != "" {
		msg[textField] = f.plain
	}
	if len(f.entities) > 0 {
		msg[entitiesField] = f.entities
	}
}

func setMarkup(msg map[string]any, k keyboard) {
	delete(msg, "reply_markup")
	if k.inline != nil {
		msg["reply_markup"] = k.inline
	}
}

func (s *Server) storeSentLocked(msg map[string]any, rec SentMessage, k keyboard) {
	s.sent = append(s.sent, rec)
	s.messages[msgKey{rec.ChatID, rec.MessageID}] = &storedMessage{obj: msg, sent: len(s.sent) - 1, markup: k.canon}
	s.notifyLocked()
}

// outgoing gathers what every send method validates the same way.
type outgoing struct {
	chat     Chat
	threadID int
	replyTo  int
	reply    map[string]any
	markup   keyboard
}

func (s *Server) outgoingLocked(r *request) (outgoing, *apiError) {
	var o outgoing
	var e *apiError
	if o.chat, e = s.targetChatLocked(r); e != nil {
		return o, e
	}
	thread, _, _ := paramInt(r, "message_thread_id")
	o.threadID = int(thread)
	if o.markup, e = parseMarkup(r.str("reply_markup")); e != nil {
		return o, e
	}
	o.replyTo, o.reply, e = s.replyTargetLocked(o.chat, r)
	return o, e
}

func (s *Server) sendMessage(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, e := s.outgoingLocked(r)
	if e != nil {
		return nil, e
	}
	text := r.str("text")
	f, e := format(text, r.str("parse_mode"), r.str("entities"))
	if e != nil {
		return nil, e
	}
	if strings.TrimSpace(f.plain) == "" {
		return nil, badRequest("message text is empty")
	}
	if utf8.RuneCountInString(f.plain) > maxTextLen {
		return nil, badRequest("message is too long")
	}

	msg := s.newBotMessageLocked(o.chat, o.threadID, o.reply)
	setFormatted(msg, "text", "entities", f)
	setMarkup(msg, o.markup)
	s.recordSentLocked(msg, o, r, text)
	return msg, nil
}

// recordSentLocked keeps a message the bot sent, with its text or caption.
func (s *Server) recordSentLocked(msg map[string]any, o outgoing, r *request, text string) {
	s.storeSentLocked(msg, SentMessage{
		ChatID:      o.chat.ID,
		MessageID:   msg["message_id"].(int),
		Text:        text,
		ParseMode:   r.str("parse_mode"),
		ReplyTo:     o.replyTo,
		ThreadID:    o.threadID,
		ReplyMarkup: o.markup.raw,
	}, o.markup)
}

// sendMedia handles sendPhoto, sendDocument and friends; field is the
// parameter carrying the file ("photo", "document"...).
func sendMedia(field string) func(*Server, *request) (any, *apiError) {
	return func(s *Server, r *request) (any, *apiError) {
		s.mu.Lock()
		defer s.mu.Unlock()
		o, e := s.outgoingLocked(r)
		if e != nil {
			return nil, e
		}
		file, e := s.mediaFileLocked(field, r)
		if e != nil {
			return nil, e
		}
		caption := r.str("caption")
		f, e := format(caption, r.str("parse_mode"), r.str("caption_entities"))
		if e != nil {
			return nil, e
		}
		if utf8.RuneCountInString(f.plain) > maxCaptionLen {
			return nil, badRequest("message caption is too long")
		}

		msg := s.newBotMessageLocked(o.chat, o.threadID, o.reply)
		msg[field] = file.mediaObject(field)
		setFormatted(msg, "caption", "caption_entities", f)
		setMarkup(msg, o.markup)
		s.recordSentLocked(msg, o, r, caption)
		return msg, nil
	}
}

func (s *Server) sendChatAction(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.targetChatLocked(r); e != nil {
		return nil, e
	}
	if r.str("action") == "" {
		return nil, badRequest("action is empty")
	}
	return true, nil
}

// editTarget finds the message an edit or delete refers to.
func (s *Server) editTargetLocked(r *request, notFound string) (*storedMessage, *apiError) {
	if r.str("inline_message_id") != "" && r.str("chat_id") == "" {
		return nil, badRequest("MESSAGE_ID_INVALID")
	}
	chat, e := s.targetChatLocked(r)
	if e != nil {
		return nil, e
	}
	id, ok, err := paramInt(r, "message_id")
	if !ok || err != nil {
		return nil, badRequest("message identifier is not specified")
	}
	m := s.messages[msgKey{chat.ID, int(id)}]
	if m == nil || m.deleted {
		return nil, badRequest(notFound)
	}
	return m, nil
}

var errNotModified = badRequest("message is not modified: specified new message content and reply markup " +
	"are exactly the same as a current content and reply markup of the message")

func (s *Server) editMessageText(r *request) (any, *apiError) {
	return s.editContent(r, "text", "entities")
}

func (s *Server) editMessageCaption(r *request) (any, *apiError) {
	return s.editContent(r, "caption", "caption_entities")
}

// editContent implements editMessageText (field "text") and
// editMessageCaption (field "caption"). Like the real API, an edit without
// reply_markup removes the inline keyboard.
func (s *Server) editContent(r *request, field, entitiesField string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(r, "message to edit not found")
	if e != nil {
		return nil, e
	}
	if m.sent < 0 {
		return nil, badRequest("message can't be edited")
	}
	if e := checkEditable(m.obj, field); e != nil {
		return nil, e
	}
	text := r.str(field)
	f, e := format(text, r.str("parse_mode"), r.str(entitiesField))
	if e != nil {
		return nil, e
	}
	if field == "text" && strings.TrimSpace(f.plain) == "" {
		return nil, badRequest("message text is empty")
	}
	if field == "text" && utf8.RuneCountInString(f.plain) > maxTextLen {
		return nil, badRequest("message is too long")
	}
	if field == "caption" && utf8.RuneCountInString(f.plain) > maxCaptionLen {
		return nil, badRequest("message caption is too long")
	}
	k, e := parseMarkup(r.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	oldText, _ := m.obj[field].(string)
	if oldText == f.plain && sameJSON(m.obj[entitiesField], f.entities) && m.markup == k.canon {
		return nil, errNotModified
	}

	obj := maps.Clone(m.obj)
	setFormatted(obj, field, entitiesField, f)
	setMarkup(obj, k)
	obj["edit_date"] = time.Now().Unix()
	m.obj, m.markup = obj, k.canon

	rec := &s.sent[m.sent]
	rec.Edits = append(rec.Edits, rec.Text)
	rec.Text = text
	rec.ParseMode = r.str("parse_mode")
	rec.ReplyMarkup = k.raw
	s.notifyLocked()
	return obj, nil
}

// checkEditable rejects text edits of media messages and caption edits of
// text messages, with the real API's wording.
func checkEditable(obj map[string]any, field string) *apiError {
	_, isText := obj["text"]
	switch {
	case field == "text" && !isText:
		return badRequest("there is no text in the message to edit")
	case field == "caption" && isText:
		return badRequest("there is no caption in the message to edit")
	}
	return nil
}

func (s *Server) editMessageReplyMarkup(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(r, "message to edit not found")
	if e != nil {
		return nil, e
	}
	if m.sent < 0 {
		return nil, badRequest("message can't be edited")
	}
	k, e := parseMarkup(r.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	if m.markup == k.canon {
		return nil, errNotModified
	}
	obj := maps.Clone(m.obj)
	setMarkup(obj, k)
	obj["edit_date"] = time.Now().Unix()
	m.obj, m.markup = obj, k.canon
	s.sent[m.sent].ReplyMarkup = k.raw
	if k.canon == "" {
		s.sent[m.sent].ReplyMarkup = nil
	}
	s.notifyLocked()
	return obj, nil
}

func (s *Server) deleteMessage(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(r, "message to delete not found")
	if e != nil {
		return nil, e
	}
	m.deleted = true
	if m.sent >= 0 {
		s.sent[m.sent].Deleted = true
	}
	s.notifyLocked()
	return true, nil
}

// sameJSON compares two values by their JSON encoding; nil and empty
// collections are equal since the API omits both.
func sameJSON(a, b any) bool {
	enc := func(v any) []byte {
		data, _ := json.Marshal(v)
		switch string(data) {
		case "null", "[]", "{}":
			return nil
		}
		return data
	}
	return bytes.Equal(enc(a), enc(b))
}

// learnMessageLocked remembers an incoming message so replies and callback
// queries can refer to it. The bot's own messages are never overwritten.
func (s *Server) learnMessageLocked(obj map[string]any, edited bool) {
	chat, _ := obj["chat"].(map[string]any)
	chatID, ok1 := jsonInt(chat["id"])
	msgID, ok2 := jsonInt(obj["message_id"])
	if !ok1 || !ok2 || msgID == 0 {
		return
	}
	key := msgKey{chatID, int(msgID)}
	if old := s.messages[key]; old != nil && (old.sent >= 0 || !edited) {
		return
	}
	s.messages[key] = &storedMessage{obj: obj, sent: -1}
	s.learnMemberLocked(chatID, chat, obj)
	if int(msgID) > s.lastMsgID[chatID] {
		s.lastMsgID[chatID] = int(msgID)
	}
	if reply, ok := obj["reply_to_message"].(map[string]any); ok {
		s.learnMessageLocked(reply, false)
	}
}

// learnMemberLocked counts whoever writes in a group as its member, as
// Telegram does, unless a test set the user's status itself.
func (s *Server) learnMemberLocked(chatID int64, chat, obj map[string]any) {
	if t, _ := chat["type"].(string); t != "group" && t != "supergroup" {
		return
	}
	from, _ := obj["from"].(map[string]any)
	userID, ok := jsonInt(from["id"])
	if !ok || userID <= 0 {
		return
	}
	if _, set := s.members[memberKey{chatID, userID}]; !set {
		s.members[memberKey{chatID, userID}] = "member"
	}
}

// jsonInt reads an integer decoded with UseNumber (or built in Go).
func jsonInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), true
	case int:
		return int64(n), true
	case int64:
		return n, true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}
