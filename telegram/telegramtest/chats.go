package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Chat is a Telegram chat as it appears in updates and messages.
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"` // "private", "group", "supergroup" or "channel"
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

// User is a Telegram user or bot.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

type memberKey struct {
	chat, user int64
}

// AddChat registers a chat so getChat and sent messages show its real
// type and title. Chats seen in pushed updates are registered
// automatically; unknown numeric ids are guessed from their shape.
func (s *Server) AddChat(c Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[c.ID] = c
	s.notifyLocked()
}

// LinkChats makes group the discussion group of channel: getChat then
// reports each as the other's linked_chat_id, as the Bot API does
// (ChatFullInfo.linked_chat_id, on both sides).
func (s *Server) LinkChats(channel, group int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.linked[channel], s.linked[group] = group, channel
	s.notifyLocked()
}

// SetChatMember sets what getChatMember reports for userID in chatID
// ("creator", "administrator", "member", "restricted", "left", "kicked").
func (s *Server) SetChatMember(chatID, userID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[memberKey{chatID, userID}] = status
	s.notifyLocked()
}

// chatLocked resolves a chat_id parameter: a number or "@username".
func (s *Server) chatLocked(ref string) (Chat, bool) {
	if name, ok := strings.CutPrefix(ref, "@"); ok {
		for _, c := range s.chats {
			if c.Username != "" && strings.EqualFold(c.Username, name) {
				return c, true
			}
		}
		return Chat{}, false
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id == 0 {
		return Chat{}, false
	}
	if c, ok := s.chats[id]; ok {
		return c, true
	}
	return s.guessChatLocked(id), true
}

// guessChatLocked invents a chat from the id's shape: positive ids are
// users, -100... ids are supergroups, other negative ids are basic groups.
func (s *Server) guessChatLocked(id int64) Chat {
	switch {
	case id > 0:
		c := Chat{ID: id, Type: "private", FirstName: fmt.Sprintf("User %d", id)}
		if u, ok := s.users[id]; ok {
			c.FirstName, c.LastName, c.Username = u.FirstName, u.LastName, u.Username
		}
		return c
	case id <= -1000000000000:
		return Chat{ID: id, Type: "supergroup", Title: fmt.Sprintf("Chat %d", id)}
	}
	return Chat{ID: id, Type: "group", Title: fmt.Sprintf("Chat %d", id)}
}

func (s *Server) userLocked(id int64) User {
	if id == s.me.ID {
		return s.me
	}
	if u, ok := s.users[id]; ok {
		return u
	}
	return User{ID: id, FirstName: fmt.Sprintf("User %d", id)}
}

// messageKinds are update fields that carry a Message.
var messageKinds = map[string]bool{
	"message": true, "edited_message": true, "channel_post": true, "edited_channel_post": true,
	"business_message": true, "edited_business_message": true,
}

// learnUpdateLocked remembers chats, users, messages and callback queries
// found in a pushed update.
func (s *Server) learnUpdateLocked(fields map[string]json.RawMessage) {
	for key, raw := range fields {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) != nil || obj == nil {
			continue
		}
		s.learnObjectLocked(obj)
		switch {
		case messageKinds[key]:
			s.learnMessageLocked(obj, strings.HasPrefix(key, "edited_"))
		case key == "callback_query":
			if id, ok := obj["id"].(string); ok {
				s.callbacks[id] = false
			}
			if msg, ok := obj["message"].(map[string]any); ok {
				s.learnMessageLocked(msg, false)
			}
		}
	}
}

// learnObjectLocked walks a decoded update and registers every chat and
// user object it contains.
func (s *Server) learnObjectLocked(v any) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			s.learnObjectLocked(e)
		}
	case map[string]any:
		for k, e := range v {
			if obj, ok := e.(map[string]any); ok {
				switch k {
				case "chat", "sender_chat":
					s.learnChatLocked(obj)
				case "from", "user":
					s.learnUserLocked(obj)
				}
			}
			s.learnObjectLocked(e)
		}
	}
}

func (s *Server) learnChatLocked(obj map[string]any) {
	id, ok := jsonInt(obj["id"])
	typ, _ := obj["type"].(string)
	if !ok || typ == "" {
		return
	}
	str := func(k string) string { v, _ := obj[k].(string); return v }
	forum, _ := obj["is_forum"].(bool)
	s.chats[id] = Chat{ID: id, Type: typ, Title: str("title"), Username: str("username"),
		FirstName: str("first_name"), LastName: str("last_name"), IsForum: forum}
}

func (s *Server) learnUserLocked(obj map[string]any) {
	id, ok := jsonInt(obj["id"])
	if !ok {
		return
	}
	str := func(k string) string { v, _ := obj[k].(string); return v }
	isBot, _ := obj["is_bot"].(bool)
	s.users[id] = User{ID: id, IsBot: isBot, FirstName: str("first_name"), LastName: str("last_name"), Username: str("username")}
}

func (s *Server) getChat(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat, e := s.chatParamLocked(r)
	if e != nil {
		return nil, e
	}
	// ChatFullInfo: the Chat fields plus the always-present extras.
	data, _ := json.Marshal(chat)
	var info map[string]any
	_ = json.Unmarshal(data, &info)
	info["accent_color_id"] = 0
	info["max_reaction_count"] = 11
	if other, ok := s.linked[chat.ID]; ok {
		info["linked_chat_id"] = other
	}
	return info, nil
}

func (s *Server) getChatMember(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat, e := s.chatParamLocked(r)
	if e != nil {
		return nil, e
	}
	userID, _, err := paramInt(r, "user_id")
	if err != nil || userID <= 0 {
		return nil, badRequest("invalid user_id specified")
	}
	status, ok := s.members[memberKey{chat.ID, userID}]
	switch {
	case ok:
	case userID == s.me.ID && chat.Type == "channel":
		status = "administrator"
	case userID == s.me.ID:
		status = "member"
	default:
		// Bot API: ChatMemberLeft "represents a chat member that isn't
		// currently a member of the chat"; that is what Telegram answers
		// for someone who never joined. Members become known by writing
		// in the chat (learnMemberLocked) or by SetChatMember.
		status = "left"
	}
	return chatMember(status, s.userLocked(userID), chat), nil
}

// chatMember renders a ChatMember object of the given status.
func chatMember(status string, user User, chat Chat) map[string]any {
	m := map[string]any{"status": status, "user": user}
	switch status {
	case "creator":
		m["is_anonymous"] = false
	case "administrator":
		for _, right := range []string{"can_manage_chat", "can_delete_messages", "can_manage_video_chats",
			"can_restrict_members", "can_change_info", "can_invite_users",
			"can_post_stories", "can_edit_stories", "can_delete_stories"} {
			m[right] = true
		}
		m["can_be_edited"] = false
		m["is_anonymous"] = false
		m["can_promote_members"] = false
		if chat.Type == "channel" {
			m["can_post_messages"] = true
			m["can_edit_messages"] = true
		} else {
			m["can_pin_messages"] = true
		}
	case "restricted", "restricted-left":
		// SetChatMember(…, "restricted-left"): restricted, and not in the chat.
		m["status"], m["is_member"] = "restricted", status == "restricted"
		m["can_send_messages"] = false
		m["until_date"] = 0
	case "kicked":
		m["until_date"] = 0
	}
	return m
}

func (s *Server) answerCallbackQuery(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.str("callback_query_id")
	answered, known := s.callbacks[id]
	if !known || answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	if len([]rune(r.str("text"))) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.callbacks[id] = true
	s.notifyLocked()
	return true, nil
}

type botCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// commandsKey identifies a command list by scope and language, as the API does.
func commandsKey(r *request) string {
	scope := r.str("scope")
	if scope == "" || scope == "null" {
		scope = `{"type":"default"}`
	}
	return scope + "|" + r.str("language_code")
}

func (s *Server) setMyCommands(r *request) (any, *apiError) {
	var cmds []botCommand
	if json.Unmarshal([]byte(r.str("commands")), &cmds) != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands specified")
	}
	for _, c := range cmds {
		if !validCommand(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := len([]rune(c.Description)); n == 0 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	data, _ := json.Marshal(cmds)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands[commandsKey(r)] = data
	s.notifyLocked()
	return true, nil
}

func validCommand(c string) bool {
	if len(c) == 0 || len(c) > 32 {
		return false
	}
	for _, ch := range []byte(c) {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

func (s *Server) getMyCommands(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if data, ok := s.commands[commandsKey(r)]; ok {
		return data, nil
	}
	return []botCommand{}, nil
}

func (s *Server) deleteMyCommands(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, commandsKey(r))
	s.notifyLocked()
	return true, nil
}

// ChannelPost builds a channel_post update for Push.
func (s *Server) ChannelPost(chat Chat, text string) map[string]any {
	msg := s.incoming(chat, text)
	msg["sender_chat"] = chat
	return map[string]any{"channel_post": msg}
}

// GroupMessage builds a message update from a user in a group. When
// replyTo != 0 the message replies to that message (the stored original
// when the server knows it).
func (s *Server) GroupMessage(chat Chat, from User, text string, replyTo int) map[string]any {
	msg := s.incoming(chat, text)
	msg["from"] = from
	if replyTo != 0 {
		msg["reply_to_message"] = s.replyObject(chat, replyTo)
	}
	return map[string]any{"message": msg}
}

// PrivateMessage builds a message update from a user in their private chat
// with the bot.
func (s *Server) PrivateMessage(from User, text string) map[string]any {
	chat := Chat{ID: from.ID, Type: "private", FirstName: from.FirstName, LastName: from.LastName, Username: from.Username}
	msg := s.incoming(chat, text)
	msg["from"] = from
	return map[string]any{"message": msg}
}

// CallbackQuery builds a callback_query update for a press on an inline
// button of message messageID in chatID.
func (s *Server) CallbackQuery(from User, chatID int64, messageID int, data string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cbSeq++
	msg := map[string]any{"message_id": messageID, "chat": s.chatOrGuessLocked(chatID), "date": 0}
	if m := s.messages[msgKey{chatID, messageID}]; m != nil {
		msg = maps.Clone(m.obj) // callers may modify the update; keep ours intact
	}
	return map[string]any{"callback_query": map[string]any{
		"id":            strconv.FormatInt(4000000000000000000+int64(s.cbSeq), 10),
		"from":          from,
		"message":       msg,
		"chat_instance": strconv.FormatInt(-chatID*7, 10),
		"data":          data,
	}}
}

func (s *Server) chatOrGuessLocked(id int64) Chat {
	if c, ok := s.chats[id]; ok {
		return c
	}
	return s.guessChatLocked(id)
}

// incoming builds the common part of an incoming message, with a
// bot_command entity when text starts with "/".
func (s *Server) incoming(chat Chat, text string) map[string]any {
	msg := map[string]any{
		"message_id": s.NextMessageID(chat.ID),
		"chat":       chat,
		"date":       time.Now().Unix(),
		"text":       text,
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		cmd, _, _ = strings.Cut(cmd, "\n")
		msg["entities"] = []entity{{Type: "bot_command", Offset: 0, Length: len(utf16.Encode([]rune(cmd)))}}
	}
	return msg
}

func (s *Server) replyObject(chat Chat, id int) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.messages[msgKey{chat.ID, id}]; m != nil {
		return withoutReply(m.obj)
	}
	return map[string]any{"message_id": id, "chat": chat, "date": time.Now().Unix()}
}
