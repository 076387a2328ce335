// Command bench measures jtbot against the limits of this machine, in one
// run: it starts the real binary against the in-repo fakes on loopback and
// compares each figure with a baseline measured beside it (a bare net/http
// handler, raw bbolt writes). It prints a table and writes BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
	bolt "go.etcd.io/bbolt"
)

const (
	token      = "123456:bench-token"
	jiraSecret = "bench-jira-secret"
	channelID  = int64(-1001000000001)
)

func main() {
	bin := flag.String("bin", "./jtbot", "the jtbot binary")
	out := flag.String("out", "BENCHMARKS.md", "where to write the table")
	dur := flag.Duration("duration", 3*time.Second, "how long each load step runs")
	maxLinks := flag.Int("links", 1_000_000, "largest link count for the start-up measurement")
	soakFor := flag.Duration("soak", 0, "instead of measuring, run a mixed load with faults for this long")
	searchLag := flag.Duration("search-lag", 0, "soak: the fake Jira's /search/jql misses issues this young (Cloud's eventual consistency); jtbot waits twice that")
	goBench := flag.String("gobench", "", "output of the Go benchmarks to include")
	notes := flag.String("notes", "bench/notes.md", "hand-written notes appended to the table")
	flag.StringVar(&drainProfile, "drainprofile", "", "write a CPU profile of the daemon while it drains the ingested backlog")
	flag.Parse()
	if *soakFor > 0 {
		if err := soak(*bin, *soakFor, *searchLag); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	r := &report{}
	if err := runAll(r, *bin, *dur, *maxLinks); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	md := r.markdown("make bench") + include("Go benchmarks (`go test -bench`, same run)", *goBench, true) + include("", *notes, false)
	fmt.Print(md)
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct{ section, name, value, limit, ratio, target string }

type report struct{ rows []row }

func (r *report) add(section, name, value, limit, ratio, target string) {
	r.rows = append(r.rows, row{section, name, value, limit, ratio, target})
	fmt.Fprintf(os.Stderr, "%-10s %-48s %-22s %-22s %-8s %s\n", section, name, value, limit, ratio, target)
}

func (r *report) markdown(cmd string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nMeasured %s on this machine (%d CPUs) by `%s`: the real daemon against the in-repo fakes on loopback.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), numCPU(), cmd)
	b.WriteString("Every figure sits beside the limit it is compared with, measured in the same run.\n\n")
	b.WriteString("| area | measure | jtbot | limit (same run) | ratio | target |\n|---|---|---|---|---|---|\n")
	for _, r := range r.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.section, r.name, r.value, r.limit, r.ratio, r.target)
	}
	return b.String()
}

// include returns a file's content as a section (as a code block when
// code), or nothing when the file is not there.
func include(title, path string, code bool) string {
	if path == "" {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n")
	if title != "" {
		b.WriteString("## " + title + "\n\n")
	}
	if code {
		b.WriteString("```\n" + string(data) + "```\n")
	} else {
		b.Write(data)
	}
	return b.String()
}

func numCPU() int {
	data, _ := os.ReadFile("/proc/cpuinfo")
	return max(1, bytes.Count(data, []byte("processor\t:")))
}

func runAll(r *report, bin string, dur time.Duration, maxLinks int) error {
	raw, err := rawBoltRate(dur)
	if err != nil {
		return err
	}
	d, err := startWorld(bin, 0)
	if err != nil {
		return err
	}
	defer d.stop()
	r.add("memory", "RSS idle", mb(d.rss()), "", "", "≤ 30 MB")
	if err := ingest(r, d, dur, raw); err != nil {
		return err
	}
	r.add("memory", "RSS after ingest load", mb(d.rss()), "", "", "≤ 80 MB")
	if err := drain(r, d); err != nil {
		return err
	}
	if err := eventToSend(r, d, dur); err != nil {
		return err
	}
	if err := postToCreate(r, d); err != nil {
		return err
	}
	if err := startup(r, bin, maxLinks); err != nil {
		return err
	}
	return nil
}

// --- the world: fakes plus the real daemon ---

type world struct {
	tg   *telegramtest.Server
	jira *jiratest.Server
	cmd  *exec.Cmd
	addr string
	dir  string
	logs bytes.Buffer
	// searchLag is the fake Jira's search lag; the daemon waits twice it.
	searchLag time.Duration
}

func startWorld(bin string, searchLag time.Duration) (*world, error) {
	w := &world{tg: telegramtest.NewServer(token), searchLag: searchLag}
	w.tg.AddChat(telegramtest.Chat{ID: channelID, Type: "channel", Title: "Bench"})
	for i := 0; i < postChannels; i++ {
		w.tg.AddChat(postChannel(i))
	}
	w.jira = jiratest.NewServer(jiratest.Options{User: "bench@example.com", Token: "t", SearchLag: searchLag})
	w.jira.AddProject("OPS", "Operations")
	for i := 0; i < deliveryChats; i++ {
		w.jira.AddProject(fmt.Sprintf("D%d", i), "Delivery")
		w.tg.AddChat(telegramtest.Chat{ID: channelID - 100 - int64(i), Type: "supergroup", Title: "Delivery"})
	}
	var err error
	if w.dir, err = os.MkdirTemp("", "jtbot-bench-"); err != nil {
		return nil, err
	}
	if w.addr, err = freeAddr(); err != nil {
		return nil, err
	}
	w.jira.AddWebhook(jiratest.Webhook{Name: "jtbot", URL: "http://" + w.addr + "/webhook/jira/", Events: jira.Events, Secret: jiraSecret})
	w.cmd = exec.Command(bin, "-poll")
	w.cmd.Env = append(os.Environ(), w.env(filepath.Join(w.dir, "jtbot.db"))...)
	w.cmd.Stderr = &w.logs
	if err := w.cmd.Start(); err != nil {
		return nil, err
	}
	if _, err := waitHealthy(w.addr, 20*time.Second); err != nil {
		w.stop()
		return nil, fmt.Errorf("%w\n%s", err, w.logs.String())
	}
	return w, nil
}

func (w *world) env(db string) []string {
	return []string{
		"TELEGRAM_HOOK_TOKEN=" + token, "TELEGRAM_API_URL=" + w.tg.URL,
		"JIRA_SERVER=" + w.jira.URL, "JIRA_USER=bench@example.com", "JIRA_TOKEN=t",
		"JIRA_WEBHOOK_SECRET=" + jiraSecret, chatProjects(),
		"ALLOWED_USERS=*", "COALESCE_WINDOW=0", "JIRA_SEARCH_SETTLE=" + (2 * w.searchLag).String(), "LISTEN_ADDR=" + w.addr, "DB_PATH=" + db, "LOG_LEVEL=warn",
	}
}

// chatProjects maps OPS and the delivery projects D0… to their own chats.
func chatProjects() string {
	pairs := []string{fmt.Sprintf("%d:OPS", channelID)}
	for i := 0; i < postChannels; i++ {
		pairs = append(pairs, fmt.Sprintf("%d:OPS", postChannel(i).ID))
	}
	for i := 0; i < deliveryChats; i++ {
		pairs = append(pairs, fmt.Sprintf("%d:D%d", channelID-100-int64(i), i))
	}
	return "CHAT_PROJECTS=" + strings.Join(pairs, ",")
}

func (w *world) stop() {
	if w.cmd != nil && w.cmd.Process != nil {
		w.cmd.Process.Signal(os.Interrupt)
		w.cmd.Wait()
	}
	w.tg.Close()
	w.jira.Close()
	os.RemoveAll(w.dir)
}

func (w *world) rss() int64 { return rssOf(w.cmd.Process.Pid) }

func rssOf(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func waitHealthy(addr string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for time.Since(start) < limit {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("not healthy within %s", limit)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// --- ingest: signed Jira webhooks at rising concurrency ---

func ingest(r *report, w *world, dur time.Duration, raw float64) error {
	body := []byte(`{"timestamp":1,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic","issue":{"id":"99","key":"ZZZ-1","fields":{"summary":"unmapped","project":{"key":"ZZZ"}}},"changelog":{"items":[{"field":"status","fromString":"To Do","toString":"Done"}]}}`)
	body = append(body[:len(body)-1], []byte(`,"pad":"`+strings.Repeat("x", 1500)+`"}`)...)
	sig := jiratest.Signature(jiraSecret, body)
	bare, err := bareServer()
	if err != nil {
		return err
	}
	defer bare.Close()
	var seq atomic.Int64
	for _, senders := range []int{1, 8, 32, 128} {
		jt := load(senders, dur, func(c *http.Client) error {
			req, _ := http.NewRequest("POST", "http://"+w.addr+"/webhook/jira/", bytes.NewReader(body))
			req.Header.Set("X-Hub-Signature", sig)
			req.Header.Set("X-Atlassian-Webhook-Identifier", strconv.FormatInt(seq.Add(1), 10))
			return do(c, req)
		})
		bt := load(senders, dur, func(c *http.Client) error {
			req, _ := http.NewRequest("POST", "http://"+bare.Addr().String()+"/", bytes.NewReader(body))
			return do(c, req)
		})
		if jt.err != nil || bt.err != nil {
			return fmt.Errorf("ingest at %d senders: %v %v", senders, jt.err, bt.err)
		}
		name := fmt.Sprintf("durable webhook ingest, %d senders", senders)
		target := ""
		if senders == 32 {
			target = fmt.Sprintf("≥ 10,000/s and ≥ 50%% of raw bbolt batch (%s/s)", count(raw))
		}
		r.add("ingest", name, count(jt.rate())+"/s", count(bt.rate())+"/s bare net/http", pct(jt.rate(), bt.rate()), target)
		r.add("ingest", fmt.Sprintf("ack latency p50/p99, %d senders", senders), jt.pcts(), bt.pcts()+" bare", "", map[int]string{32: "p99 ≤ 20 ms at 1,000/s"}[senders])
	}
	r.add("ingest", "raw bbolt Batch writes (same payload, 32 writers)", count(raw)+"/s", "", "", "")
	return nil
}

func do(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

type result struct {
	n    int
	dur  time.Duration
	lats []time.Duration
	err  error
}

func (r result) rate() float64 { return float64(r.n) / r.dur.Seconds() }

func (r result) pcts() string {
	if len(r.lats) == 0 {
		return "-"
	}
	sort.Slice(r.lats, func(i, j int) bool { return r.lats[i] < r.lats[j] })
	p := func(q float64) time.Duration { return r.lats[int(q*float64(len(r.lats)-1))] }
	return fmt.Sprintf("%s / %s", ms(p(0.5)), ms(p(0.99)))
}

// load runs fn from n senders for dur.
func load(n int, dur time.Duration, fn func(*http.Client) error) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	stop := time.Now().Add(dur)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lats []time.Duration
			for time.Now().Before(stop) {
				t := time.Now()
				if err := fn(client); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lats = append(lats, time.Since(t))
			}
			mu.Lock()
			all = append(all, lats...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return result{n: len(all), dur: time.Since(start), lats: all, err: firstErr}
}

func bareServer() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(200)
	}))
	return ln, nil
}

// rawBoltRate is bbolt's own batched write rate from 32 writers.
func rawBoltRate(dur time.Duration) (float64, error) {
	dir, err := os.MkdirTemp("", "jtbot-bench-bolt-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, nil)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("q")); return err })
	value := make([]byte, 2048)
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(dur)
	start := time.Now()
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				db.Batch(func(tx *bolt.Tx) error {
					q := tx.Bucket([]byte("q"))
					seq, _ := q.NextSequence()
					k := make([]byte, 8)
					binary.BigEndian.PutUint64(k, seq)
					return q.Put(k, value)
				})
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// drain waits for the worker to finish the ingested backlog (events of an
// unmapped project: read, decided, removed) and reports its rate.
func drain(r *report, w *world) error {
	if drainProfile != "" {
		go profileDaemon(w, drainProfile, 5*time.Second)
	}
	start := time.Now()
	first := -1
	for time.Since(start) < 5*time.Minute {
		depth, err := queueDepth(w.addr)
		if err != nil {
			return err
		}
		if first < 0 {
			first = depth
		}
		if depth == 0 && first == 0 {
			r.add("worker", "backlog when the ingest load stopped", "0 items: the worker kept up", "", "", "")
			return nil
		}
		if depth == 0 {
			r.add("worker", fmt.Sprintf("queue drain after ingest (%s items)", count(float64(first))), count(float64(first)/time.Since(start).Seconds())+"/s", "", "", "")
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the queue did not drain")
}

// drainProfile is where -drainprofile writes.
var drainProfile string

// profileDaemon fetches a CPU profile from the daemon's control socket.
func profileDaemon(w *world, path string, d time.Duration) {
	sock := filepath.Join(w.dir, "jtbot.db.sock")
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "unix", sock)
	}}}
	resp, err := client.Get(fmt.Sprintf("http://jtbot/debug/pprof/profile?seconds=%d", int(d.Seconds())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
	}
}

func queueDepth(addr string) (int, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "jtbot_queue_depth ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, "jtbot_queue_depth "), 64)
			return int(v), err
		}
	}
	return 0, fmt.Errorf("no jtbot_queue_depth in /metrics")
}

// --- Jira event → Telegram sendMessage ---

// deliveryChats spreads the events over chats: jtbot itself keeps to
// Telegram's limits (1 message/s per chat, 30/s overall), so one chat
// cannot carry more than one event a second.
const deliveryChats = 20

func eventToSend(r *report, w *world, dur time.Duration) error {
	actor := w.jira.As(jiratest.User{AccountID: "acc-bench", Name: "bench", DisplayName: "Bench"})
	var keys []string
	for i := 0; i < deliveryChats; i++ {
		is, err := actor.CreateIssue(fmt.Sprintf("D%d", i), "Task", "bench issue", "")
		if err != nil {
			return err
		}
		keys = append(keys, is.Key)
	}
	if !w.tg.WaitFor(30*time.Second, func() bool { return len(w.tg.Sent()) >= deliveryChats }) {
		return fmt.Errorf("the issues' roots were never posted\n%s", w.logs.String())
	}
	// Let the per-chat limit of the root messages pass.
	time.Sleep(1100 * time.Millisecond)
	rounds := max(2, int(dur.Seconds()))
	n := rounds * deliveryChats
	start := len(w.tg.Sent())
	sentAt := make([]time.Time, n)
	for round := 0; round < rounds; round++ {
		roundStart := time.Now()
		for c, key := range keys {
			i := round*deliveryChats + c
			sentAt[i] = time.Now()
			if _, err := actor.Comment(key, fmt.Sprintf("bench comment %d", i)); err != nil {
				return err
			}
			time.Sleep(time.Second / deliveryChats)
		}
		time.Sleep(time.Until(roundStart.Add(1100 * time.Millisecond)))
	}
	if !w.tg.WaitFor(60*time.Second, func() bool { return len(w.tg.Sent())-start >= n }) {
		return fmt.Errorf("only %d of %d comments reached Telegram", len(w.tg.Sent())-start, n)
	}
	var lats []time.Duration
	for _, c := range w.tg.Calls() {
		text := c.Params["text"]
		at := strings.Index(text, "bench comment ")
		if c.Method != "sendMessage" || at < 0 {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(text[at:], "bench comment %d", &i); err == nil && i < n {
			lats = append(lats, c.At.Sub(sentAt[i]))
		}
	}
	res := result{lats: lats}
	r.add("delivery", fmt.Sprintf("Jira comment → Telegram sendMessage p50/p99 (%d/s over %d chats)", deliveryChats, deliveryChats),
		res.pcts(), "", "", "p99 ≤ 10 ms (at 500/s: above Telegram's 30/s limit, which jtbot keeps)")
	return nil
}

// --- channel post → Jira issue create ---

// postChannels are the channels postToCreate and the soak post in: the
// answer under each post and each notification is a message, and
// Telegram allows about twenty a minute per channel (which jtbot keeps).
const postChannels = 40

func postChannel(i int) telegramtest.Chat {
	return telegramtest.Chat{ID: channelID - 1000 - int64(i), Type: "channel", Title: fmt.Sprintf("Bench %d", i)}
}

// postToCreate times channel posts from the update reaching Telegram's
// queue to the issue existing in Jira, beside the fake Jira's own time to
// answer a create, measured in the same run.
//
// The posts go round-robin over postChannels channels: the answer under
// each post is a message, and Telegram allows about one a second per chat
// (which jtbot keeps), so 20 posts a second take 20 channels.
func postToCreate(r *report, w *world) error {
	const n = 60
	pushed := make(map[string]time.Time, n)
	before := len(w.jira.Issues())
	for i := 0; i < n; i++ {
		summary := fmt.Sprintf("bench post %d", i)
		pushed[summary] = time.Now()
		w.tg.Push(w.tg.ChannelPost(postChannel(i%postChannels), summary+"\nbody"))
		time.Sleep(50 * time.Millisecond)
	}
	if !w.jira.WaitFor(30*time.Second, func() bool { return len(w.jira.Issues())-before >= n }) {
		return fmt.Errorf("only %d of %d posts became issues", len(w.jira.Issues())-before, n)
	}
	var lats []time.Duration
	for _, is := range w.jira.Issues() {
		if t, ok := pushed[is.Summary]; ok {
			lats = append(lats, is.Created.Sub(t))
		}
	}
	direct := directCreates(w, 30)
	r.add("delivery", fmt.Sprintf("channel post → Jira issue created p50/p99 (20/s over %d channels, long polling)", postChannels), result{lats: lats}.pcts(), result{lats: direct}.pcts()+" a bare create call", "", "")
	return nil
}

// directCreates is the limit: creating issues straight through the fake's
// REST API, without jtbot.
func directCreates(w *world, n int) []time.Duration {
	var lats []time.Duration
	for i := 0; i < n; i++ {
		body := fmt.Sprintf(`{"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Task"},"summary":"direct %d"}}`, i)
		req, _ := http.NewRequest("POST", w.jira.URL+"/rest/api/2/issue", strings.NewReader(body))
		req.SetBasicAuth("bench@example.com", "t")
		req.Header.Set("Content-Type", "application/json")
		t := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lats = append(lats, time.Since(t))
	}
	return lats
}

// --- start-up with many stored links ---

func startup(r *report, bin string, maxLinks int) error {
	sizes := []int{0, 10_000, 100_000}
	if maxLinks > 100_000 {
		sizes = append(sizes, maxLinks)
	}
	for _, n := range sizes {
		w, err := newIdleWorld()
		if err != nil {
			return err
		}
		db := filepath.Join(w.dir, "jtbot.db")
		if err := fillLinks(db, n); err != nil {
			return err
		}
		fi, _ := os.Stat(db)
		cmd := exec.Command(bin, "-poll")
		cmd.Env = append(os.Environ(), w.env(db)...)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		_, err = waitHealthy(w.addr, 30*time.Second)
		took := time.Since(start)
		rss := rssOf(cmd.Process.Pid)
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if err != nil {
			w.stop()
			return err
		}
		r.add("start-up", fmt.Sprintf("start to healthy, %s links", count(float64(n))), ms(took), "", "", map[bool]string{true: "≤ 200 ms with 1M"}[n == maxLinks])
		r.add("start-up", fmt.Sprintf("RSS after start, %s links", count(float64(n))), mb(rss), "", "", "")
		if n > 0 {
			r.add("storage", fmt.Sprintf("bytes on disk per link, %s links", count(float64(n))), fmt.Sprintf("%.0f", float64(fi.Size())/float64(n)), "", "", "≤ 150")
			if err := lookups(r, db, n); err != nil {
				w.stop()
				return err
			}
		}
		w.stop()
	}
	return nil
}

// lookups times random message → issue lookups, one transaction each, as
// the worker does them.
func lookups(r *report, db string, n int) error {
	s, err := storage.Open(db, storage.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	lats := make([]time.Duration, 0, 100_000)
	for i := 0; i < 100_000; i++ {
		id := (i * 7919) % n
		t := time.Now()
		if _, err := s.MessageLink(channelID-int64(id%8), id); err != nil {
			return fmt.Errorf("lookup %d: %w", id, err)
		}
		lats = append(lats, time.Since(t))
	}
	res := result{lats: lats}
	r.add("storage", fmt.Sprintf("link lookup p50/p99, %s links", count(float64(n))), micro(res), "", "", map[bool]string{true: "p99 ≤ 20 µs with 1M"}[n >= 1_000_000])
	return nil
}

func micro(r result) string {
	sort.Slice(r.lats, func(i, j int) bool { return r.lats[i] < r.lats[j] })
	p := func(q float64) time.Duration { return r.lats[int(q*float64(len(r.lats)-1))] }
	return fmt.Sprintf("%.1f µs / %.1f µs", float64(p(0.5).Nanoseconds())/1000, float64(p(0.99).Nanoseconds())/1000)
}

func newIdleWorld() (*world, error) {
	w := &world{tg: telegramtest.NewServer(token), jira: jiratest.NewServer(jiratest.Options{User: "bench@example.com", Token: "t"})}
	var err error
	if w.dir, err = os.MkdirTemp("", "jtbot-bench-"); err != nil {
		return nil, err
	}
	w.addr, err = freeAddr()
	return w, err
}

// fillLinks stores n message links the way jtbot does (post and answer).
func fillLinks(path string, n int) error {
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	const chunk = 20_000
	links := make([]storage.LinkedMessage, 0, chunk)
	for i := 0; i < n; i++ {
		// A post and the bot's answer per issue, in a handful of chats.
		links = append(links, storage.LinkedMessage{ChatID: channelID - int64(i%8), MessageID: i, Link: storage.Link{Issue: "OPS-" + strconv.Itoa(100000+i/2)}})
		if len(links) == chunk || i == n-1 {
			if err := s.LinkMessages(links); err != nil {
				return err
			}
			links = links[:0]
		}
	}
	return nil
}

func count(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func pct(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
