package bot

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

func TestLinkAndUnlink(t *testing.T) {
	h := newHarness(t, "ADMIN_USERS=501")
	h.jira.AddProject("WEB", "Website")
	tests := []struct {
		name string
		user telegramtest.User
		cmd  string
		want string
		// project is the group's mapping afterwards; "" none
		project string
		status  int // a Jira failure first
	}{
		{"not an admin", testBob, "/link WEB", "Only admins", "", 0},
		{"no such project", testAlice, "/link NOPE", "Project NOPE not found", "", 0},
		{"Jira refuses", testAlice, "/link WEB", "jtbot's Jira account cannot see", "", 403},
		{"Jira down", testAlice, "/link WEB", "Jira is unreachable", "", 500},
		{"link", testAlice, "/link web", "now linked to WEB (Website)", "WEB", 0},
		{"unlink by non-admin", testBob, "/unlink", "Only admins", "WEB", 0},
		{"unlink", testAlice, "/unlink", "no longer belongs to WEB", "", 0},
		{"unlink again", testAlice, "/unlink", "not linked", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status != 0 {
				h.jira.FailNext("GET", "/rest/api/2/project/", 1, tt.status, 0)
			}
			wantText(t, h.askGroup(testGroup, tt.user, tt.cmd), tt.want)
			got, mapped, err := h.bot.project(testGroupID)
			if err != nil || got != tt.project || mapped != (tt.project != "") {
				t.Errorf("mapping = %q %v %v", got, mapped, err)
			}
		})
	}
	t.Run("in a private chat", func(t *testing.T) {
		wantText(t, h.ask(testAlice, "/link WEB"), "in the group")
	})
	t.Run("fixed by CHAT_PROJECTS", func(t *testing.T) {
		wantText(t, h.askGroup(telegramtest.Chat{ID: testChannelID, Type: "supergroup"}, testAlice, "/unlink"), "CHAT_PROJECTS")
	})
}

func TestLinkTakesEffectAtOnce(t *testing.T) {
	h := newHarness(t, "ADMIN_USERS=501")
	key := h.newIssue("Disk full")
	wantText(t, h.askGroup(testGroup, testAlice, "/link OPS"), "now linked to OPS")
	// A key mentioned in the newly linked group gets its card right away.
	wantText(t, h.askGroup(testGroup, testAlice, "what about "+key+"?"), key, "Disk full", "To Do")
}

func TestMentionCards(t *testing.T) {
	h := newHarness(t)
	if err := h.store.SetChatProject(testGroupID, "OPS"); err != nil {
		t.Fatal(err)
	}
	one, two := h.newIssue("Disk full"), h.newIssue("CPU hot")

	card := h.askGroup(testGroup, testAlice, "see "+one+" and "+two+", also OPS-999")
	text := plain(t, card)
	if !strings.Contains(text, one+" Disk full") || !strings.Contains(text, two+" CPU hot") || strings.Contains(text, "OPS-999") {
		t.Errorf("cards = %q", text)
	}

	// Within 10 minutes the same key gets no second card; a new one does.
	three := h.newIssue("Net down")
	again := h.askGroup(testGroup, testAlice, one+" again, and "+three)
	if text := plain(t, again); strings.Contains(text, "Disk full") || !strings.Contains(text, "Net down") {
		t.Errorf("second cards = %q", text)
	}

	// No card in an unmapped chat, nor for a URL path or a lower-case word.
	quiet := []telegramtest.Chat{{ID: -1009, Type: "supergroup", Title: "Elsewhere"}}
	for _, c := range quiet {
		h.tg.AddChat(c)
		h.tg.Push(h.tg.GroupMessage(c, testAlice, "see "+three, 0))
	}
	h.tg.Push(h.tg.GroupMessage(testGroup, testAlice, "https://x/browse/OPS-3 or ops-3", 0))
	h.waitIdle()
	n := 0
	for _, m := range h.tg.Sent() {
		// Replies only: Jira's own news of the new issue is not a card.
		if m.ReplyTo != 0 && strings.Contains(m.Text, "Net down") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d cards of %s, want 1", n, three)
	}
}

func TestMentionsNeedAnAllowedUser(t *testing.T) {
	h := newHarness(t, "ALLOWED_USERS=@alice")
	if err := h.store.SetChatProject(testGroupID, "OPS"); err != nil {
		t.Fatal(err)
	}
	key := h.newIssue("Disk full")
	h.tg.Push(h.tg.GroupMessage(testGroup, testBob, "look at "+key, 0))
	h.waitIdle()
	for _, m := range h.tg.SentTo(testGroupID) {
		if m.ReplyTo != 0 { // Jira's own news of the new issue is no answer
			t.Errorf("answered a refused user: %+v", m)
		}
	}
}

// A /link widens the project filter of Jira's webhook for jtbot, so the
// linked project's news arrives; the webhook's secret is kept.
func TestLinkWidensTheJiraWebhook(t *testing.T) {
	h := newHarness(t, "ADMIN_USERS=501")
	h.jira.AddProject("WEB", "Website")
	for _, hook := range h.jira.Webhooks() {
		req, _ := http.NewRequest("DELETE", h.jira.URL+"/rest/webhooks/1.0/webhook/"+hook.ID, nil)
		req.SetBasicAuth("bot@example.com", "jira-api-token")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	h.jira.AddWebhook(jiratest.Webhook{Name: "jtbot", URL: h.hooks.URL + "/webhook/jira/", Events: jira.Events,
		Secret: testJiraSecret, JQL: "project in (OPS)"})
	wantText(t, h.askGroup(testGroup, testAlice, "/link WEB"), "now linked to WEB")
	hooks := h.jira.Webhooks()
	if len(hooks) != 1 || hooks[0].JQL != "project in (OPS, WEB)" || hooks[0].Secret != testJiraSecret {
		t.Fatalf("webhooks after /link: %+v", hooks)
	}
	// WEB's news now reaches the group.
	key := ""
	if is, err := h.jira.As(testJane).CreateIssue("WEB", "Task", "Broken link", ""); err != nil {
		t.Fatal(err)
	} else {
		key = is.Key
	}
	h.waitSent(func(m telegramtest.SentMessage) bool { return m.ChatID == testGroupID && strings.Contains(m.Text, key) })
}
