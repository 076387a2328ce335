package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/secret"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// Test secrets of personal accounts; newWorld checks every daemon's log for
// them too.
const (
	testSecretKey   = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="
	otherSecretKey  = "ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8="
	testOAuthSecret = "oauth-client-secret-value"
	testUserToken   = "PERSONAL-TOKEN-4711"
)

// connectSomeone stores a personal connection sealed with key, as jtbot
// would, while no jtbot runs.
func connectSomeone(t *testing.T, db, key string) {
	t.Helper()
	if err := saveConnection(db, key); err != nil {
		t.Fatal(err)
	}
}

func saveConnection(db, key string) error {
	k, err := secret.ParseKey(key)
	if err != nil {
		return err
	}
	store, err := storage.Open(db, storage.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.UseKey(k); err != nil {
		return err
	}
	return store.SaveAccount(storage.Account{TelegramID: alice.ID, Kind: storage.KindAPIToken, JiraID: jane.AccountID,
		Email: "alice@example.com", AccessToken: testUserToken})
}

// A SECRET_KEY that cannot open the connections stored stops jtbot with
// exit 2 and one line naming it, rather than a start that forgets them.
// With nobody connected, no key is needed (every other test starts so).
func TestSecretKeyAtStart(t *testing.T) {
	w := newWorld(t)
	w.start(t, true, "SECRET_KEY="+testSecretKey).stop()
	connectSomeone(t, w.db, testSecretKey)

	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{"wrong key", []string{"SECRET_KEY=" + otherSecretKey}, "SECRET_KEY: is not the key that sealed the 1 personal Jira connection"},
		{"no key", nil, "SECRET_KEY: not set, but 1 personal Jira connection"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(w.env(tt.env...), true)
			if err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			log := logrus.New()
			log.SetOutput(&out)
			if code := daemon(context.Background(), cfg, log, hooks{}); code != exitConfig {
				t.Errorf("exit %d, want %d", code, exitConfig)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("log lacks %q:\n%s", tt.want, out.String())
			}
			for _, s := range []string{testSecretKey, otherSecretKey, testUserToken} {
				if strings.Contains(out.String(), s) {
					t.Errorf("the log shows a secret")
				}
			}
		})
	}
	// The right key: jtbot starts and keeps the connection.
	w.start(t, true, "SECRET_KEY="+testSecretKey).stop()
	store, err := storage.Open(w.db, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if n, err := store.CountAccounts(); n != 1 || err != nil {
		t.Errorf("CountAccounts after a start with the right key = %d, %v", n, err)
	}
}

// A /connect token sent to a running jtbot reaches neither its log nor its
// database file.
func TestConnectTokenStaysOutOfTheDatabase(t *testing.T) {
	w := newWorld(t)
	d := w.start(t, false, "SECRET_KEY="+testSecretKey, "JIRA_OAUTH_CLIENT_ID=jtbot-app",
		"JIRA_OAUTH_CLIENT_SECRET="+testOAuthSecret, "PUBLIC_URL=http://127.0.0.1:1")
	w.tg.Push(w.tg.PrivateMessage(alice, "/connect alice@example.com "+testUserToken))
	w.waitSent(t, func(m telegramtest.SentMessage) bool { return m.ChatID == alice.ID })
	if code := d.stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	raw, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(testUserToken)) {
		t.Errorf("the database file contains the /connect token")
	}
	if strings.Contains(w.logs.String(), testUserToken) {
		t.Errorf("the log contains the /connect token")
	}
}
