package telegram

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/secret"
	"github.com/jtbot/jtbot/storage"
)

func newKey(t *testing.T) *secret.Key {
	t.Helper()
	raw := make([]byte, secret.KeySize)
	rand.Read(raw)
	k, err := secret.ParseKey(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dm is a private message from Alice as Telegram sends it, with the
// entities Telegram marks in a /connect text.
func dm(field, text string, entities string) string {
	return `{"update_id":10,"` + field + `":{"message_id":5,"from":{"id":501,"is_bot":false,"first_name":"Alice"},` +
		`"chat":{"id":501,"type":"private","first_name":"Alice"},"date":1700000000,"text":` + quote(text) +
		`,"entities":` + entities + `}}`
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const connectEntities = `[{"offset":0,"length":8,"type":"bot_command"},{"offset":9,"length":14,"type":"email"}]`

func TestSealConnect(t *testing.T) {
	key := newKey(t)
	tests := []struct {
		name, update string
		field        string // the message rewritten; "" = update unchanged
		wantArgs     string
		wantCmd      string
	}{
		{"e-mail and token", dm("message", "/connect me@example.com SECRET123", connectEntities), "message", "me@example.com SECRET123", "/connect"},
		{"token alone", dm("message", "/connect SECRET123", `[{"offset":0,"length":8,"type":"bot_command"}]`), "message", "SECRET123", "/connect"},
		{"addressed to the bot", dm("message", "/connect@jtbot SECRET123", `[{"offset":0,"length":14,"type":"bot_command"}]`), "message", "SECRET123", "/connect@jtbot"},
		{"token on the next line", dm("message", "/connect\nSECRET123", `[{"offset":0,"length":8,"type":"bot_command"}]`), "message", "SECRET123", "/connect"},
		{"edited", dm("edited_message", "/connect me@example.com SECRET123", connectEntities), "edited_message", "me@example.com SECRET123", "/connect"},
		{"no arguments", dm("message", "/connect", `[{"offset":0,"length":8,"type":"bot_command"}]`), "", "", ""},
		{"another command", dm("message", "/connecting SECRET123", `[]`), "", "", ""},
		{"not a command", dm("message", "please /connect SECRET123", `[]`), "", "", ""},
		{"button", `{"update_id":11,"callback_query":{"id":"q","from":{"id":501},"data":"x"}}`, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := SealConnect(key)([]byte(tt.update))
			if err != nil {
				t.Fatal(err)
			}
			if tt.field == "" {
				if string(out) != tt.update {
					t.Errorf("changed an update it should leave alone:\n%s", out)
				}
				return
			}
			if bytes.Contains(out, []byte("SECRET123")) || bytes.Contains(out, []byte("me@example.com")) {
				t.Fatalf("the arguments are still there:\n%s", out)
			}
			var u tele.Update
			if err := json.Unmarshal(out, &u); err != nil {
				t.Fatalf("telebot cannot read the rewritten update: %v", err)
			}
			m := u.Message
			if tt.field == "edited_message" {
				m = u.EditedMessage
			}
			if m == nil || m.Sender == nil || m.Sender.ID != 501 || m.Chat.ID != 501 || m.ID != 5 {
				t.Fatalf("other fields changed: %+v", m)
			}
			if !strings.HasPrefix(m.Text, tt.wantCmd+" "+ConnectPrefix) {
				t.Errorf("text = %q", m.Text)
			}
			if len(m.Entities) != 1 || m.Entities[0].Type != tele.EntityCommand || m.Entities[0].Length != len(tt.wantCmd) {
				t.Errorf("entities = %+v, want the command's alone", m.Entities)
			}
			args, sealed, err := OpenConnectArgs(key, m.Text)
			if err != nil || !sealed || args != tt.wantArgs {
				t.Errorf("OpenConnectArgs = %q, %v, %v; want %q", args, sealed, err, tt.wantArgs)
			}
		})
	}
}

// A reply quotes the message it answers: the token goes there too.
func TestSealConnectInAReply(t *testing.T) {
	key := newKey(t)
	update := `{"update_id":12,"message":{"message_id":6,"from":{"id":501},"chat":{"id":501,"type":"private"},"text":"oops",` +
		`"reply_to_message":{"message_id":5,"from":{"id":501},"chat":{"id":501,"type":"private"},"text":"/connect SECRET123"}}}`
	out, err := SealConnect(key)([]byte(update))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("SECRET123")) {
		t.Fatalf("the quoted token is still there:\n%s", out)
	}
	var u tele.Update
	if err := json.Unmarshal(out, &u); err != nil {
		t.Fatal(err)
	}
	if u.Message.Text != "oops" || u.Message.ReplyTo == nil {
		t.Fatalf("message = %+v", u.Message)
	}
	if args, _, err := OpenConnectArgs(key, u.Message.ReplyTo.Text); args != "SECRET123" || err != nil {
		t.Errorf("OpenConnectArgs(reply) = %q, %v", args, err)
	}
}

func TestSealConnectWithoutKeyRemovesTheArguments(t *testing.T) {
	out, err := SealConnect(nil)([]byte(dm("message", "/connect me@example.com SECRET123", connectEntities)))
	if err != nil {
		t.Fatal(err)
	}
	var u tele.Update
	if err := json.Unmarshal(out, &u); err != nil {
		t.Fatal(err)
	}
	if u.Message.Text != "/connect" || len(u.Message.Entities) != 1 {
		t.Errorf("message = %q %+v, want /connect and its command entity", u.Message.Text, u.Message.Entities)
	}
}

func TestOpenConnectArgs(t *testing.T) {
	key := newKey(t)
	sealed, err := SealConnect(key)([]byte(dm("message", "/connect@jtbot SECRET123", `[]`)))
	if err != nil {
		t.Fatal(err)
	}
	var u tele.Update
	json.Unmarshal(sealed, &u)
	text := u.Message.Text
	payload := strings.TrimPrefix(text, "/connect@jtbot ")
	otherPurpose := ConnectPrefix + base64.RawURLEncoding.EncodeToString(key.Seal([]byte("SECRET123"), []byte("account:501")))
	tests := []struct {
		name       string
		key        *secret.Key
		text       string
		want       string
		wantSealed bool
		wantErr    error
	}{
		{"whole text", key, text, "SECRET123", true, nil},
		{"arguments only", key, payload, "SECRET123", true, nil},
		{"not sealed", key, "/connect plain-name", "plain-name", false, nil},
		{"no arguments", key, "/connect", "", false, nil},
		{"wrong key", newKey(t), text, "", true, secret.ErrOpen},
		{"no key", nil, text, "", true, ErrConnectSealed},
		{"not base64", key, ConnectPrefix + "!!!", "", true, secret.ErrOpen},
		{"sealed for another purpose", key, otherPurpose, "", true, secret.ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, sealed, err := OpenConnectArgs(tt.key, tt.text)
			if args != tt.want || sealed != tt.wantSealed || !errors.Is(err, tt.wantErr) {
				t.Errorf("OpenConnectArgs = %q, %v, %v; want %q, %v, %v", args, sealed, err, tt.want, tt.wantSealed, tt.wantErr)
			}
		})
	}
}

// The token of a /connect message posted to the webhook never reaches the
// database file, while the bot can still read it from the queue.
func TestConnectTokenNeverReachesTheFile(t *testing.T) {
	for _, withKey := range []bool{true, false} {
		name := map[bool]string{true: "sealed with SECRET_KEY", false: "removed without a key"}[withKey]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jtbot.db")
			store, err := storage.Open(path, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			var key *secret.Key
			if withKey {
				key = newKey(t)
			}
			in := NewInbound(store, "hook-secret", nil, logrus.New(), WithRewrite(SealConnect(key)))
			req := httptest.NewRequest(http.MethodPost, "/webhook/telegram/",
				strings.NewReader(dm("message", "/connect me@example.com SECRET123", connectEntities)))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "hook-secret")
			rec := httptest.NewRecorder()
			in.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			assertFileLacks(t, path, "SECRET123")

			items, err := store.Pending(10)
			if err != nil || len(items) != 1 {
				t.Fatalf("Pending = %v, %v", items, err)
			}
			var u tele.Update
			if err := json.Unmarshal(items[0].Payload, &u); err != nil {
				t.Fatal(err)
			}
			args, sealed, err := OpenConnectArgs(key, u.Message.Text)
			switch {
			case withKey && (args != "me@example.com SECRET123" || !sealed || err != nil):
				t.Errorf("the bot reads %q, %v, %v", args, sealed, err)
			case !withKey && (args != "" || sealed || err != nil):
				t.Errorf("without a key the bot reads %q, %v, %v; want no arguments", args, sealed, err)
			}
			// Handled and deleted: the freed page holds no token either.
			if err := store.Done(items[0].ID); err != nil {
				t.Fatal(err)
			}
			assertFileLacks(t, path, "SECRET123")
		})
	}
	// The control: without the rewrite the search does find the token, so
	// the searches above prove something.
	path := filepath.Join(t.TempDir(), "jtbot.db")
	store, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := NewInbound(store, "s", nil, logrus.New()).Store([]byte(dm("message", "/connect SECRET123", "[]"))); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); !bytes.Contains(raw, []byte("SECRET123")) {
		t.Errorf("control: the unsealed token is not found in the file: the search is blind")
	}
}

func assertFileLacks(t *testing.T, path, secret string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Errorf("the database file contains %q", secret)
	}
}
