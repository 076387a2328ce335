// Command demo plays jtbot's main loop offline: it starts the in-repo fake
// Telegram Bot API and fake Jira, runs the real jtbot binary against them in
// webhook mode, acts as a channel, a group member and a Jira user, and prints
// a transcript of what each side saw.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

const (
	token      = "123456:demo-token"
	jiraSecret = "demo-jira-webhook-secret"
	wait       = 20 * time.Second
)

var (
	channel = telegramtest.Chat{ID: -1001000000001, Type: "channel", Title: "Ops news", Username: "opsnews"}
	group   = telegramtest.Chat{ID: -1001000000002, Type: "supergroup", Title: "Ops news chat"}
	alice   = telegramtest.User{ID: 501, FirstName: "Alice", LastName: "Liddell", Username: "alice"}
	jane    = jiratest.User{AccountID: "acc-jane", Name: "jane", DisplayName: "Jane Jira"}
)

func main() {
	bin := flag.String("bin", "./jtbot", "the jtbot binary to run")
	flag.Parse()
	if err := play(*bin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

type demo struct {
	out  io.Writer
	tg   *telegramtest.Server
	jira *jiratest.Server
	logs *lockedBuffer
}

func play(bin string, out io.Writer) error {
	d := &demo{out: out, logs: &lockedBuffer{}}
	d.tg = telegramtest.NewServer(token)
	defer d.tg.Close()
	d.tg.AddChat(channel)
	d.tg.AddChat(group)
	d.tg.LinkChats(channel.ID, group.ID) // the channel's discussion group
	d.jira = jiratest.NewServer(jiratest.Options{User: "jtbot@example.com", Token: "demo-jira-token"})
	defer d.jira.Close()
	d.jira.AddProject("OPS", "Operations")
	d.jira.AddUser(jane)

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "jtbot-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d.jira.AddWebhook(jiratest.Webhook{Name: "jtbot", URL: "http://" + addr + "/webhook/jira/", Secret: jiraSecret,
		Events: []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated", "comment_deleted", "attachment_created"}})

	personal, err := d.personalEnv(addr)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(append(append(os.Environ(), personal...), adminEnv()...),
		"TELEGRAM_HOOK_TOKEN="+token,
		"TELEGRAM_API_URL="+d.tg.URL,
		"TELEGRAM_WEBHOOK_URL=http://"+addr+"/webhook/telegram/",
		"JIRA_SERVER="+d.jira.URL,
		"JIRA_USER=jtbot@example.com",
		"JIRA_TOKEN=demo-jira-token",
		"JIRA_WEBHOOK_SECRET="+jiraSecret,
		fmt.Sprintf("CHAT_PROJECTS=%d:OPS", channel.ID),
		"ALLOWED_USERS=@alice",
		"COALESCE_WINDOW=0",
		"JIRA_SEARCH_SETTLE=0s", // the fake's search sees every write at once
		"LISTEN_ADDR="+addr,
		"DB_PATH="+filepath.Join(dir, "jtbot.db"),
	)
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	d.say("▶ starting %s (webhook mode) against the fake Telegram and the fake Jira", bin)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()
	if err := d.waitHealthy(addr, exited); err != nil {
		return d.fail(err)
	}
	if err := d.scenario(); err != nil {
		return d.fail(err)
	}
	return d.stop(cmd, exited)
}

func (d *demo) scenario() error {
	d.say("\n── Telegram → Jira ──")
	text := "Disk full on db-1\nThe /var partition is at 100%, writes fail since 09:12."
	post := d.tg.ChannelPost(channel, text)
	msg := post["channel_post"].(map[string]any)
	msg["entities"] = []map[string]any{{"type": "bold", "offset": 0, "length": 17}, {"type": "code", "offset": 22, "length": 4}}
	postID := msg["message_id"].(int)
	d.say("📣 channel %q posts (message %d):\n%s", channel.Title, postID, indent(text))
	d.tg.Push(post)

	if !d.jira.WaitFor(wait, func() bool { return len(d.jira.Issues()) == 1 }) {
		return errors.New("no issue was created in Jira")
	}
	is := d.jira.Issues()[0]
	d.say("🟦 Jira: %s created, type %s, summary %q, description:\n%s", is.Key, is.Type, is.Summary, indent(is.Description))

	answer, err := d.sent(func(m telegramtest.SentMessage) bool { return m.ReplyTo == postID })
	if err != nil {
		return err
	}
	d.say("🤖 bot answers under the post: %s", answer.Text)

	fwd := d.automaticForward(postID, text)
	fwdID := fwd["message"].(map[string]any)["message_id"].(int)
	d.say("↪ Telegram copies the post into the discussion group %q (message %d)", group.Title, fwdID)
	d.tg.Push(fwd)
	d.say("💬 Alice (@alice) replies under it: \"Cleaning old logs now\"")
	d.tg.Push(d.tg.GroupMessage(group, alice, "Cleaning old logs now", fwdID))
	if !d.jira.WaitFor(wait, func() bool { is, _ := d.jira.Issue("OPS-1"); return len(is.Comments) == 1 }) {
		return errors.New("the reply did not become a Jira comment")
	}
	is, _ = d.jira.Issue("OPS-1")
	d.say("🟦 Jira: comment on OPS-1 by %s:\n%s", is.Comments[0].Author.DisplayName, indent(is.Comments[0].Body))

	df := []byte("Filesystem  Size  Used Avail Use% Mounted on\n/dev/vdb1   100G  100G     0 100% /var\n")
	d.tg.AddFile("demo-df-file", "documents/df.txt", df)
	doc := d.tg.GroupMessage(group, alice, "", fwdID)
	m := doc["message"].(map[string]any)
	delete(m, "text")
	m["caption"] = "df output attached"
	m["document"] = map[string]any{"file_id": "demo-df-file", "file_unique_id": "demo-df", "file_name": "df.txt", "mime_type": "text/plain", "file_size": len(df)}
	d.say("📎 Alice replies with a file, df.txt (%d bytes), captioned \"df output attached\"", len(df))
	d.tg.Push(doc)
	if !d.jira.WaitFor(wait, func() bool { is, _ := d.jira.Issue("OPS-1"); return len(is.Attachments) == 1 && len(is.Comments) == 2 }) {
		return errors.New("the file did not reach Jira")
	}
	is, _ = d.jira.Issue("OPS-1")
	d.say("🟦 Jira: attachment %s (%d bytes) on OPS-1, and the comment:\n%s", is.Attachments[0].Filename, is.Attachments[0].Size, indent(is.Comments[1].Body))

	d.say("\n── Jira → Telegram ──")
	d.say("🟦 Jane Jira comments in Jira: \"Thanks! *Please* rotate them too.\"")
	if _, err := d.jira.As(jane).Comment("OPS-1", "Thanks! *Please* rotate them too."); err != nil {
		return err
	}
	note, err := d.sent(func(m telegramtest.SentMessage) bool { return strings.Contains(m.Text, "rotate") })
	if err != nil {
		return err
	}
	d.say("🤖 bot posts in %q, replying to message %d:\n%s", group.Title, note.ReplyTo, indent(note.Text))
	d.say("🟦 Jane moves OPS-1 to In Progress")
	if err := d.jira.As(jane).Transition("OPS-1", "In Progress"); err != nil {
		return err
	}
	status, err := d.sent(func(m telegramtest.SentMessage) bool { return strings.Contains(m.Text, "In Progress") })
	if err != nil {
		return err
	}
	d.say("🤖 bot posts, replying to message %d:\n%s", status.ReplyTo, indent(status.Text))
	for _, m := range d.tg.Sent() {
		if strings.Contains(m.Text, "Cleaning old logs") {
			return errors.New("jtbot echoed its own comment back to Telegram")
		}
	}
	d.say("✔ no echo: the comment jtbot wrote from Alice's reply was not posted back")
	return d.personalScene(fwdID)
}

// automaticForward is the copy of a channel post Telegram puts into the
// channel's discussion group.
func (d *demo) automaticForward(postID int, text string) map[string]any {
	u := d.tg.GroupMessage(group, telegramtest.User{ID: 777000, FirstName: "Telegram"}, text, 0)
	m := u["message"].(map[string]any)
	m["sender_chat"] = channel
	m["is_automatic_forward"] = true
	m["forward_from_chat"] = channel
	m["forward_from_message_id"] = postID
	m["forward_origin"] = map[string]any{"type": "channel", "chat": channel, "message_id": postID, "date": time.Now().Unix()}
	return u
}

func (d *demo) sent(match func(telegramtest.SentMessage) bool) (telegramtest.SentMessage, error) {
	var found telegramtest.SentMessage
	ok := d.tg.WaitFor(wait, func() bool {
		for _, m := range d.tg.Sent() {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		return found, errors.New("an expected Telegram message never came")
	}
	return found, nil
}

func (d *demo) waitHealthy(addr string, exited chan error) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("jtbot exited at start: %v", err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				d.say("✔ jtbot is up: /healthz says ok, Telegram webhook set to %s", d.webhookURL())
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("jtbot did not become healthy")
}

func (d *demo) webhookURL() string {
	for _, c := range d.tg.Calls() {
		if c.Method == "setWebhook" {
			return c.Params["url"]
		}
	}
	return "(not yet)"
}

func (d *demo) stop(cmd *exec.Cmd, exited chan error) error {
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-exited:
		if err != nil {
			return d.fail(fmt.Errorf("jtbot exited with %v after SIGTERM", err))
		}
	case <-time.After(15 * time.Second):
		return d.fail(errors.New("jtbot did not stop within 15 s of SIGTERM"))
	}
	d.say("\n■ SIGTERM: jtbot stopped cleanly (exit 0) in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

func (d *demo) fail(err error) error {
	d.say("\njtbot's log:\n%s", indent(d.logs.String()))
	return err
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, format+"\n", args...)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
