package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// soak runs a mixed load in both directions against the real daemon for
// dur, with faults injected on a schedule, then checks that nothing was
// lost or doubled and that goroutines and memory came back down.
func soak(bin string, dur, searchLag time.Duration) error {
	w, err := startWorld(bin, searchLag)
	if err != nil {
		return err
	}
	defer w.stop()
	time.Sleep(time.Second)
	base, err := scrape(w.addr)
	if err != nil {
		return err
	}
	fmt.Printf("soak: %s of load; baseline: %.0f goroutines, %s RSS, %s heap in use\n", dur, base["go_goroutines"], mb(int64(base["process_resident_memory_bytes"])), mb(int64(base["go_memstats_heap_inuse_bytes"])))

	l := &soakLoad{w: w, actor: w.jira.As(jiratest.User{AccountID: "acc-soak", Name: "soak", DisplayName: "Soak"})}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, f := range []func(<-chan struct{}){l.posts, l.replies, l.jiraComments, l.faults, l.sampleMemory} {
		wg.Add(1)
		go func() { defer wg.Done(); f(stop) }()
	}
	time.Sleep(dur)
	close(stop)
	wg.Wait()

	start := time.Now()
	if err := waitDrained(w.addr, 3*time.Minute); err != nil {
		logs := w.logs.String()
		return fmt.Errorf("%w; the daemon's last log lines:\n%s", err, logs[max(0, len(logs)-4000):])
	}
	fmt.Printf("soak: queue drained %s after the load stopped\n", time.Since(start).Round(time.Millisecond))
	return l.check(base)
}

type soakLoad struct {
	w     *world
	actor *jiratest.Actor

	mu       sync.Mutex
	nPosts   int
	nReplies int
	comments int
	faultsN  int
	rss      []float64
}

func (l *soakLoad) every(stop <-chan struct{}, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f()
		}
	}
}

// posts go round-robin over the bench channels: 5/s in all, so that each
// channel's answers and notifications stay inside Telegram's twenty
// messages a minute per group.
func (l *soakLoad) posts(stop <-chan struct{}) {
	l.every(stop, 200*time.Millisecond, func() {
		l.mu.Lock()
		i := l.nPosts
		l.nPosts++
		l.mu.Unlock()
		l.w.tg.Push(l.w.tg.ChannelPost(postChannel(i%postChannels), fmt.Sprintf("soak post %d\nsome text", i)))
	})
}

// replies answer a random bot answer, in the mapped chat seen as a group.
func (l *soakLoad) replies(stop <-chan struct{}) {
	user := telegramtest.User{ID: 42, FirstName: "Soak", Username: "soak"}
	l.every(stop, 150*time.Millisecond, func() {
		answers := l.botAnswers()
		if len(answers) == 0 {
			return
		}
		l.mu.Lock()
		i := l.nReplies
		l.nReplies++
		l.mu.Unlock()
		a := answers[rand.IntN(len(answers))]
		group := telegramtest.Chat{ID: a.ChatID, Type: "supergroup", Title: "Bench"}
		l.w.tg.Push(l.w.tg.GroupMessage(group, user, fmt.Sprintf("soak reply %d", i), a.MessageID))
	})
}

// botAnswers are the bot's answers under posts, in every bench channel.
func (l *soakLoad) botAnswers() []telegramtest.SentMessage {
	var out []telegramtest.SentMessage
	for _, m := range l.w.tg.Sent() {
		if strings.HasPrefix(m.Text, "📝") {
			out = append(out, m)
		}
	}
	return out
}

func (l *soakLoad) jiraComments(stop <-chan struct{}) {
	l.every(stop, 300*time.Millisecond, func() {
		issues := l.w.jira.Issues()
		if len(issues) == 0 {
			return
		}
		l.mu.Lock()
		i := l.comments
		l.comments++
		l.mu.Unlock()
		l.actor.Comment(issues[rand.IntN(len(issues))].Key, fmt.Sprintf("soak jira comment %d", i))
	})
}

// faults injects an outage every 10 s that lasts 3 s, in turn: Jira
// answering 503, Jira answering 429 with Retry-After, Jira answering
// slowly, Telegram answering 429 with retry_after, Telegram answering 502.
func (l *soakLoad) faults(stop <-chan struct{}) {
	const many = 1 << 30 // until cleared
	schedule := []func(){
		func() { l.w.jira.FailNext("", "/rest/api/2/", many, 503, 0) },
		func() { l.w.jira.FailNext("", "/rest/api/2/", many, 429, time.Second) },
		func() { l.w.jira.SetDelay(300 * time.Millisecond) },
		func() { l.w.tg.FailNext("sendMessage", many, 429, "", 1) },
		func() { l.w.tg.FailNext("sendMessage", many, 502, "Bad Gateway", 0) },
	}
	l.every(stop, 10*time.Second, func() {
		l.mu.Lock()
		n := l.faultsN
		l.faultsN++
		l.mu.Unlock()
		schedule[n%len(schedule)]()
		select {
		case <-stop:
		case <-time.After(3 * time.Second):
		}
		l.w.jira.ClearFaults()
		l.w.tg.ClearFaults()
	})
	l.w.jira.ClearFaults()
	l.w.tg.ClearFaults()
}

func (l *soakLoad) sampleMemory(stop <-chan struct{}) {
	l.every(stop, 2*time.Second, func() {
		if m, err := scrape(l.w.addr); err == nil {
			l.mu.Lock()
			l.rss = append(l.rss, m["process_resident_memory_bytes"])
			l.mu.Unlock()
		}
	})
}

// check counts what arrived: every post one issue, every reply one comment;
// no dead letters; goroutines back to the baseline; memory bounded.
func (l *soakLoad) check(base map[string]float64) error {
	issues := l.w.jira.Issues()
	perPost := map[string]int{}
	perReply := map[string]int{}
	for _, is := range issues {
		perPost[is.Summary]++
		for _, c := range is.Comments {
			if at := strings.Index(c.Body, "soak reply "); at >= 0 {
				perReply[strings.Fields(c.Body[at:])[2]]++
			}
		}
	}
	var problems []string
	lost, doubled := 0, 0
	for i := 0; i < l.nPosts; i++ {
		switch n := perPost[fmt.Sprintf("soak post %d", i)]; {
		case n == 0:
			lost++
		case n > 1:
			doubled++
		}
	}
	rlost, rdoubled := 0, 0
	for i := 0; i < l.nReplies; i++ {
		switch n := perReply[strconv.Itoa(i)]; {
		case n == 0:
			rlost++
		case n > 1:
			rdoubled++
		}
	}
	fmt.Printf("soak: %d posts → %d lost, %d doubled; %d replies → %d lost, %d doubled; %d Jira comments; %d faults injected; %d messages sent\n",
		l.nPosts, lost, doubled, l.nReplies, rlost, rdoubled, l.comments, l.faultsN, len(l.w.tg.Sent()))
	if lost+doubled+rlost+rdoubled > 0 {
		problems = append(problems, "items lost or doubled")
	}
	time.Sleep(2 * time.Second) // idle connections and timers settle
	end, err := scrape(l.w.addr)
	if err != nil {
		return err
	}
	if end["jtbot_dead_letters"] != 0 {
		problems = append(problems, fmt.Sprintf("%.0f dead letters", end["jtbot_dead_letters"]))
	}
	minRSS, maxRSS := minMax(l.rss)
	fmt.Printf("soak: goroutines %.0f → %.0f; RSS during load %s–%s, after %s; heap in use %s → %s\n",
		base["go_goroutines"], end["go_goroutines"], mb(int64(minRSS)), mb(int64(maxRSS)), mb(int64(end["process_resident_memory_bytes"])),
		mb(int64(base["go_memstats_heap_inuse_bytes"])), mb(int64(end["go_memstats_heap_inuse_bytes"])))
	if end["go_goroutines"] > base["go_goroutines"]+10 {
		problems = append(problems, "goroutines did not return to their baseline")
	}
	if maxRSS > 80<<20 {
		problems = append(problems, "RSS above 80 MB under load")
	}
	if len(problems) > 0 {
		return fmt.Errorf("soak failed: %s", strings.Join(problems, "; "))
	}
	fmt.Println("soak: passed")
	return nil
}

func minMax(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

func waitDrained(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if d, err := queueDepth(addr); err == nil && d == 0 {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the queue did not drain within %s", limit)
}

// scrape reads the daemon's /metrics into name → value (label-free series).
func scrape(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, nil
}
