package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// TestCrashLosesNothing kills the real binary with SIGKILL at random moments
// while posts arrive, restarts it, and checks that every post became
// exactly one Jira issue and got its answer.
func TestCrashLosesNothing(t *testing.T) {
	crashTest(t, 0, "JIRA_SEARCH_SETTLE=0s")
}

// The same against Jira Cloud's eventually consistent search: the fake's
// /search/jql does not see an issue for a second after it was created
// (developer.atlassian.com/cloud/jira/platform/search-and-reconcile), so a
// retry after a crash that trusted the search at once would create a
// second issue. jtbot waits until the search has settled (2 s here).
func TestCrashLosesNothingWithSearchLag(t *testing.T) {
	crashTest(t, time.Second, "JIRA_SEARCH_SETTLE=2s")
}

func crashTest(t *testing.T, lag time.Duration, settle string) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := filepath.Join(t.TempDir(), "jtbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	w := newWorld(t)
	w.jira.SetSearchLag(lag)
	addr := freeAddr(t)
	w.jira.AddWebhook(jiratest.Webhook{Name: "jtbot", URL: "http://" + addr + "/webhook/jira/", Events: jiraEvents, Secret: testJiraSecret})
	// Ten channels: each answer under a post takes one of its channel's
	// twenty messages a minute (Telegram's limit, which jtbot keeps), and
	// the test is about crashes, not about waiting for the limit.
	var channels []telegramtest.Chat
	var mapping []string
	for i := range 10 {
		c := telegramtest.Chat{ID: -1001000000100 - int64(i), Type: "channel", Title: fmt.Sprintf("crash %d", i)}
		w.tg.AddChat(c)
		channels = append(channels, c)
		mapping = append(mapping, fmt.Sprintf("%d:OPS", c.ID))
	}
	env := append(os.Environ(), w.env("LISTEN_ADDR="+addr, "LOG_LEVEL=warn", "CHAT_PROJECTS="+strings.Join(mapping, ","), settle)...)

	const posts = 150
	pushDone := make(chan struct{})
	go func() {
		defer close(pushDone)
		for i := 0; i < posts; i++ {
			w.tg.Push(w.tg.ChannelPost(channels[i%len(channels)], fmt.Sprintf("crash post %d\nbody", i)))
			time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
		}
	}()

	// Kill the daemon at random moments until every post was pushed, and
	// at least 20 times.
	kills := 0
	for pushing := true; pushing || kills < 20; kills++ {
		cmd := startBinary(t, bin, env, w)
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		select {
		case <-pushDone:
			pushing = false
		default:
		}
	}

	// A last, undisturbed run finishes the work.
	cmd := startBinary(t, bin, env, w)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	answered := func() int {
		n := 0
		for _, m := range w.tg.Sent() {
			if m.ChatID <= channels[0].ID && m.ChatID >= channels[len(channels)-1].ID && strings.Contains(m.Text, "/browse/OPS-") {
				n++
			}
		}
		return n
	}
	if !w.tg.WaitFor(60*time.Second, func() bool { return answered() >= posts && len(w.jira.Issues()) >= posts }) {
		t.Fatalf("after %d kills: %d issues, %d answers for %d posts", kills, len(w.jira.Issues()), answered(), posts)
	}
	seen := map[string]int{}
	for _, is := range w.jira.Issues() {
		seen[is.Summary]++
	}
	for i := 0; i < posts; i++ {
		if n := seen[fmt.Sprintf("crash post %d", i)]; n != 1 {
			t.Errorf("post %d became %d issues", i, n)
		}
	}
	t.Logf("%d SIGKILLs; %d posts → %d issues; %d answers (more than %d means a duplicate answer)", kills, posts, len(w.jira.Issues()), answered(), posts)
}

func startBinary(t *testing.T, bin string, env []string, w *world) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "-poll")
	cmd.Env = env
	cmd.Stderr = w.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
