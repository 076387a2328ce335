package telegram

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/jtbot/jtbot/secret"
)

// ConnectPrefix marks /connect arguments that were sealed before the update
// was queued. Whatever a user types after /connect is sealed, so text with
// this prefix that reaches the bot unsealed cannot come from a user.
const ConnectPrefix = "sealed:v1:"

// connectAD binds the sealed arguments to their purpose: a sealed account
// or OAuth state pasted into a message does not open as arguments.
var connectAD = []byte("telegram:/connect arguments")

// connectCommand matches /connect as telebot does (an optional @botname,
// then white space or the end) and captures the command and the rest.
var connectCommand = regexp.MustCompile(`(?s)^(/connect(?:@\w+)?)(\s.*)?$`)

// ErrConnectSealed means sealed /connect arguments arrived while no
// SECRET_KEY is set to open them.
var ErrConnectSealed = errors.New("telegram: sealed /connect arguments but no SECRET_KEY")

// SealConnect is the inbound rewrite (WithRewrite) that keeps the token of
// `/connect TOKEN` or `/connect EMAIL TOKEN` out of the database file: the
// update is queued before the bot handles (and deletes) it, and bbolt does
// not wipe freed pages. In a message or edited message (and the message it
// replies to) whose text is /connect with arguments, the arguments become
// ConnectPrefix and their sealed form; with a nil key they are removed, and
// the bot answers that personal accounts are off. Other updates pass
// through byte for byte.
func SealConnect(key *secret.Key) func(update []byte) ([]byte, error) {
	return func(update []byte) ([]byte, error) {
		return sealConnectUpdate(key, update)
	}
}

func sealConnectUpdate(key *secret.Key, raw []byte) ([]byte, error) {
	var update map[string]json.RawMessage
	if json.Unmarshal(raw, &update) != nil {
		return raw, nil // not ours to judge: Store refuses what it cannot read
	}
	changed := false
	for _, field := range []string{"message", "edited_message"} {
		msg, ok := update[field]
		if !ok {
			continue
		}
		sealed, did, err := sealConnectMessage(key, msg)
		if err != nil {
			return nil, err
		}
		if did {
			update[field], changed = sealed, true
		}
	}
	if !changed {
		return raw, nil
	}
	return json.Marshal(update)
}

// sealConnectMessage rewrites one message object; fields other than text,
// entities and reply_to_message keep their exact bytes.
func sealConnectMessage(key *secret.Key, raw json.RawMessage) (json.RawMessage, bool, error) {
	var msg map[string]json.RawMessage
	if json.Unmarshal(raw, &msg) != nil {
		return raw, false, nil
	}
	changed := false
	if reply, ok := msg["reply_to_message"]; ok {
		// A reply quotes the whole message it answers, token included.
		sealed, did, err := sealConnectMessage(key, reply)
		if err != nil {
			return nil, false, err
		}
		if did {
			msg["reply_to_message"], changed = sealed, true
		}
	}
	var text string
	if t, ok := msg["text"]; ok && json.Unmarshal(t, &text) == nil {
		if cmd, args := splitConnect(text); cmd != "" && args != "" {
			if err := replaceConnectText(key, msg, cmd, args); err != nil {
				return nil, false, err
			}
			changed = true
		}
	}
	if !changed {
		return raw, false, nil
	}
	out, err := json.Marshal(msg)
	return out, err == nil, err
}

// replaceConnectText puts the sealed (or no) arguments in place of args and
// keeps only the entities that lie inside the command: the others point
// into arguments that are gone, and one of them might mark the token.
func replaceConnectText(key *secret.Key, msg map[string]json.RawMessage, cmd, args string) error {
	text := cmd
	if key != nil {
		text += " " + ConnectPrefix + base64.RawURLEncoding.EncodeToString(key.Seal([]byte(args), connectAD))
	}
	t, err := json.Marshal(text)
	if err != nil {
		return err
	}
	msg["text"] = t
	return keepEntitiesWithin(msg, len(utf16.Encode([]rune(cmd))))
}

func keepEntitiesWithin(msg map[string]json.RawMessage, end int) error {
	raw, ok := msg["entities"]
	if !ok {
		return nil
	}
	var entities []json.RawMessage
	if json.Unmarshal(raw, &entities) != nil {
		delete(msg, "entities")
		return nil
	}
	var kept []json.RawMessage
	for _, e := range entities {
		var span struct{ Offset, Length int }
		if json.Unmarshal(e, &span) == nil && span.Offset >= 0 && span.Length >= 0 && span.Offset+span.Length <= end {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		delete(msg, "entities")
		return nil
	}
	out, err := json.Marshal(kept)
	msg["entities"] = out
	return err
}

// splitConnect returns the command (with its @botname) and the trimmed
// arguments of a /connect text; cmd is empty for any other text.
func splitConnect(text string) (cmd, args string) {
	m := connectCommand.FindStringSubmatch(text)
	if m == nil {
		return "", ""
	}
	return m[1], strings.TrimSpace(m[2])
}

// OpenConnectArgs gives the bot the arguments of a /connect message: text
// is the message's text or just its arguments. sealed reports that they
// were sealed by SealConnect (and are opened here); unsealed arguments come
// back as they are. Arguments that do not open are an error wrapping
// secret.ErrOpen; sealed ones without a key, ErrConnectSealed.
func OpenConnectArgs(key *secret.Key, text string) (args string, sealed bool, err error) {
	args = strings.TrimSpace(text)
	if cmd, rest := splitConnect(args); cmd != "" {
		args = rest
	}
	encoded, ok := strings.CutPrefix(args, ConnectPrefix)
	if !ok {
		return args, false, nil
	}
	if key == nil {
		return "", true, ErrConnectSealed
	}
	box, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", true, fmt.Errorf("telegram: /connect arguments: %w", secret.ErrOpen)
	}
	plain, err := key.Open(box, connectAD)
	if err != nil {
		return "", true, fmt.Errorf("telegram: /connect arguments: %w", err)
	}
	return string(plain), true, nil
}
