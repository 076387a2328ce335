package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/server"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// doctor runs checks, one line each: ✓, or ✗ with what to do.
type doctor struct {
	out    io.Writer
	failed int
}

func (d *doctor) ok(format string, args ...any) {
	fmt.Fprintf(d.out, "✓ "+format+"\n", args...)
}

// warn reports something that works but is likely a mistake; it does not
// fail the run.
func (d *doctor) warn(fix string, format string, args ...any) {
	fmt.Fprintf(d.out, "! "+format+"\n    fix: %s\n", append(args, fix)...)
}

func (d *doctor) bad(fix string, format string, args ...any) {
	d.failed++
	fmt.Fprintf(d.out, "✗ "+format+"\n    fix: %s\n", append(args, fix)...)
}

func cmdDoctor(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	poll := fs.Bool("poll", false, "check the settings for -poll mode")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	d := &doctor{out: stdout}
	cfg, err := config.Load(environ, *poll)
	if err != nil {
		var problems config.Problems
		errors.As(err, &problems)
		for _, p := range problems {
			d.bad("set it in the environment file (see README: Settings)", "setting %s", p)
		}
		return d.finish()
	}
	d.ok("settings valid (%d chat mappings, mode %s)", len(cfg.ChatProjects), map[bool]string{true: "poll", false: "webhook"}[cfg.Poll])
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d.checkTLS(cfg)
	d.checkTelegram(ctx, cfg)
	d.checkJira(ctx, cfg)
	d.checkStateDirectory(cfg, environ)
	d.checkDatabase(cfg)
	return d.finish()
}

func (d *doctor) finish() int {
	if d.failed > 0 {
		fmt.Fprintf(d.out, "\n%d check(s) failed\n", d.failed)
		return exitFail
	}
	fmt.Fprintln(d.out, "\nall checks passed")
	return exitOK
}

func (d *doctor) checkTelegram(ctx context.Context, cfg *config.Config) {
	tg, err := newTelegramClient(cfg)
	if err != nil {
		d.bad("check TELEGRAM_API_URL", "Telegram client: %v", err)
		return
	}
	me, err := tg.Me(ctx)
	if err != nil {
		d.bad("copy the token from @BotFather into TELEGRAM_HOOK_TOKEN; check that "+cfg.TelegramAPIURL+" is reachable",
			"Telegram token (getMe): %v", err)
		return
	}
	d.ok("Telegram token works: @%s", me.Username)
	d.checkWebhook(ctx, cfg, tg)
	d.checkChats(ctx, cfg, tg, me.ID)
}

func (d *doctor) checkWebhook(ctx context.Context, cfg *config.Config, tg *telegram.Client) {
	info, err := tg.WebhookInfo(ctx)
	switch {
	case err != nil:
		d.bad("retry; check the network", "Telegram webhook (getWebhookInfo): %v", err)
	case cfg.Poll && info.URL != "":
		d.ok("poll mode: a webhook is set (%s); jtbot -poll deletes it at start", info.URL)
	case cfg.Poll:
		d.ok("poll mode: no webhook set")
	case info.URL != cfg.TelegramWebhookURL:
		d.bad("start jtbot (it registers the webhook) or run: jtbot webhooks -service telegram -base-url https://your-host",
			"Telegram webhook is %q, expected %q", info.URL, cfg.TelegramWebhookURL)
	case info.LastErrorMessage != "" && time.Since(time.Unix(info.LastErrorDate, 0)) < 24*time.Hour:
		d.bad("Telegram cannot deliver: check that the URL is public HTTPS (ports 443, 80, 88 or 8443) with a valid certificate, that the proxy forwards /webhook/telegram/ to LISTEN_ADDR, and jtbot's log",
			"Telegram webhook last error (%s ago): %s; %d updates pending", time.Since(time.Unix(info.LastErrorDate, 0)).Round(time.Second), info.LastErrorMessage, info.PendingUpdateCount)
	default:
		d.ok("Telegram webhook set to %s (%d updates pending)", info.URL, info.PendingUpdateCount)
	}
}

// checkChats checks that the bot can post in each mapped chat.
func (d *doctor) checkChats(ctx context.Context, cfg *config.Config, tg *telegram.Client, botID int64) {
	for _, chatID := range sortedChats(cfg.ChatProjects) {
		status, err := tg.MemberStatus(ctx, chatID, botID)
		switch {
		case err != nil:
			d.bad("add the bot to the chat (channels: as an administrator) and check the ID in CHAT_PROJECTS",
				"chat %d: %v", chatID, err)
		case status == "administrator" || status == "creator":
			d.ok("chat %d: the bot is an administrator", chatID)
		default:
			chat, _ := tg.Chat(ctx, chatID)
			if chat.Type == "channel" {
				d.bad("make the bot an administrator of the channel (it must post)", "chat %d: the bot is %q in the channel", chatID, status)
			} else {
				d.ok("chat %d: the bot is a %s of the %s (with privacy mode on it only sees commands and replies to itself: /setprivacy → Disable in @BotFather)", chatID, status, chat.Type)
			}
		}
	}
}

func sortedChats(m map[int64]string) []int64 {
	var ids []int64
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (d *doctor) checkJira(ctx context.Context, cfg *config.Config) {
	jc, err := jira.New(cfg.JiraServer, cfg.JiraUser, cfg.JiraToken, &http.Client{Timeout: 15 * time.Second})
	if err != nil {
		d.bad("check JIRA_SERVER", "Jira client: %v", err)
		return
	}
	me, err := jc.Myself(ctx)
	if err != nil {
		d.bad(jiraFix(err, cfg), "Jira credentials (myself): %v", err)
		return
	}
	d.ok("Jira reachable at %s, logged in as %s", cfg.JiraServer, me.Display())
	projects := projectsOf(cfg)
	for _, project := range projects {
		d.checkProject(ctx, cfg, jc, project)
	}
	d.checkJiraWebhook(ctx, jc, projects)
}

// checkJiraWebhook says whether Jira's webhook for jtbot covers every
// project served (a /link adds projects; the daemon widens the filter when
// its account may). Reading webhooks needs a Jira admin: only a warning.
func (d *doctor) checkJiraWebhook(ctx context.Context, jc *jira.Client, projects []string) {
	const fix = "run: jtbot webhooks -service jira -base-url https://your-host (as a Jira admin)"
	hooks, err := jc.Webhooks(ctx)
	if err != nil {
		d.warn("check the webhook in Jira's administration (System → WebHooks) by hand", "cannot read Jira's webhooks: %v", err)
		return
	}
	for _, h := range hooks {
		if h.Name != jira.WebhookName {
			continue
		}
		if missing := jira.MissingProjects(h, projects); len(missing) > 0 {
			d.bad(fix, "Jira webhook %q leaves out project(s) %s: their news never arrives", h.Name, strings.Join(missing, ", "))
			return
		}
		d.ok("Jira webhook %q covers %s", h.Name, strings.Join(projects, ", "))
		return
	}
	d.warn(fix+", or check that an admin registered one by hand", "no Jira webhook named %q", jira.WebhookName)
}

func (d *doctor) checkProject(ctx context.Context, cfg *config.Config, jc *jira.Client, project string) {
	types, err := jc.CreatableTypes(ctx, project)
	if err != nil {
		d.bad("check the key in CHAT_PROJECTS/JIRA_PROJECT and that jtbot's Jira account has Browse and Create issues in it",
			"project %s: %v", project, err)
		return
	}
	want := []string{cfg.JiraIssueType}
	for _, t := range cfg.HashtagTypes {
		want = append(want, t)
	}
	var missing []string
	for _, w := range want {
		if !containsFold(types, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		d.bad(fmt.Sprintf("set JIRA_ISSUE_TYPE/HASHTAG_TYPES to types of %s: %s", project, strings.Join(types, ", ")),
			"project %s: cannot create issue type(s) %s", project, strings.Join(missing, ", "))
		return
	}
	d.ok("project %s visible; can create %s", project, strings.Join(want, ", "))
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// projectsOf lists every project jtbot serves: CHAT_PROJECTS, JIRA_PROJECT,
// the mappings made with /link and the subscriptions' projects (asked of
// the running daemon, or read from the database when none runs).
func projectsOf(cfg *config.Config) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range cfg.ChatProjects {
		add(p)
	}
	add(cfg.JiraProject)
	for _, p := range runtimeProjects(cfg.DBPath) {
		add(p)
	}
	sort.Strings(out)
	return out
}

// runtimeProjects are the projects of the /link mappings and of the
// subscriptions, or none when they cannot be read.
func runtimeProjects(dbPath string) []string {
	var m map[int64]string
	var subs []storage.Subscription
	if c, ok := server.DialControl(dbPath); ok {
		m, _ = c.Mappings()
		subs, _ = c.Subscriptions()
	} else if store, err := openExisting(dbPath); err == nil {
		m, _ = store.ChatProjects()
		subs, _ = store.Subscriptions()
		store.Close()
	}
	var out []string
	for _, p := range m {
		out = append(out, p)
	}
	for _, s := range subs {
		out = append(out, s.Project)
	}
	return out
}

func jiraFix(err error, cfg *config.Config) string {
	var je *jira.Error
	if errors.As(err, &je) {
		switch je.Status {
		case 0:
			return "check that " + cfg.JiraServer + " is reachable from this host (DNS, proxy, firewall)"
		case http.StatusUnauthorized, http.StatusForbidden:
			if cfg.JiraUser == "" {
				return "Data Center: JIRA_TOKEN must be a personal access token of an active user (JIRA_USER empty)"
			}
			return "Cloud: JIRA_USER is the account's e-mail and JIRA_TOKEN an API token from id.atlassian.com"
		case http.StatusNotFound:
			return "check JIRA_SERVER, including a context path such as /jira"
		}
	}
	return "check JIRA_SERVER, JIRA_USER and JIRA_TOKEN"
}

func (d *doctor) checkDatabase(cfg *config.Config) {
	if _, running := server.DialControl(cfg.DBPath); running {
		d.ok("database %s is in use by the running jtbot", cfg.DBPath)
		return
	}
	if _, err := os.Stat(cfg.DBPath); errors.Is(err, os.ErrNotExist) {
		if err := dirWritable(filepath.Dir(cfg.DBPath)); err != nil {
			d.bad("create the directory or point DB_PATH elsewhere", "database %s does not exist and cannot be created: %v", cfg.DBPath, err)
			return
		}
		d.ok("database %s does not exist yet; jtbot creates it at start", cfg.DBPath)
		return
	}
	store, err := storage.Open(cfg.DBPath, storage.Options{LockTimeout: 2 * time.Second})
	if err != nil {
		d.bad("check DB_PATH and that its directory is writable by jtbot's user", "database: %v", err)
		return
	}
	defer store.Close()
	v, err := store.Schema()
	if err != nil {
		d.bad("restore a backup (jtbot backup)", "database %s: %v", cfg.DBPath, err)
		return
	}
	queued, dead := store.Depth()
	d.ok("database %s opens, schema %d, %d queued, %d dead letters", cfg.DBPath, v, queued, dead)
	d.listPins(store)
	d.checkSecretKey(cfg, store)
}

// listPins shows which account each @username of ALLOWED_USERS is pinned
// to, so that an admin can tell a name's new owner from the old one
// (ALLOWED_USERS by ID is the cure).
func (d *doctor) listPins(store *storage.Store) {
	pins, err := store.Pins()
	if err != nil || len(pins) == 0 {
		return
	}
	names := make([]string, 0, len(pins))
	for name := range pins {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		names[i] = fmt.Sprintf("@%s → %d", name, pins[name])
	}
	d.ok("usernames pinned to the first account seen with them: %s", strings.Join(names, ", "))
}

// checkSecretKey tells before a restart what the start would refuse: a
// SECRET_KEY that cannot open the personal connections stored.
func (d *doctor) checkSecretKey(cfg *config.Config, store *storage.Store) {
	err := store.CheckKey(cfg.SecretKey)
	var bad *storage.KeyError
	switch {
	case errors.As(err, &bad):
		d.bad("set SECRET_KEY (or SECRET_KEY_FILE) to the key the connections were sealed with; jtbot does not start without it", "%v", bad)
		return
	case err != nil:
		d.bad("restore a backup (jtbot backup)", "database %s: %v", cfg.DBPath, err)
		return
	case cfg.SecretKey == nil:
		return
	}
	n, err := store.CountAccounts()
	if err != nil {
		d.bad("restore a backup (jtbot backup)", "database %s: %v", cfg.DBPath, err)
		return
	}
	d.ok("SECRET_KEY opens the personal Jira connections stored (%d)", n)
}

// checkStateDirectory warns when systemd gave jtbot a state directory and
// DB_PATH lies outside it: typically a DB_PATH in the environment file,
// which with ProtectSystem=strict points at a read-only place or escapes
// the directory the unit backs up and cleans.
func (d *doctor) checkStateDirectory(cfg *config.Config, environ []string) {
	var raw string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "STATE_DIRECTORY="); ok {
			raw = v
		}
	}
	dirs := config.StateDirectories(raw)
	if len(dirs) == 0 {
		return
	}
	db, err := filepath.Abs(cfg.DBPath)
	if err != nil {
		db = cfg.DBPath
	}
	for _, dir := range dirs {
		rel, err := filepath.Rel(dir, db)
		if err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return
		}
	}
	d.warn("remove DB_PATH from the environment file: under systemd the default is $STATE_DIRECTORY/jtbot.db",
		"DB_PATH %s lies outside the state directory %s", cfg.DBPath, dirs[0])
}

func dirWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".jtbot-doctor-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func (d *doctor) checkTLS(cfg *config.Config) {
	if cfg.TLSDomain != "" {
		d.checkACME(cfg)
		return
	}
	if !cfg.TLS() {
		return
	}
	cert, err := server.LoadCertFiles(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		d.bad("point TLS_CERT_FILE and TLS_KEY_FILE at a PEM certificate chain and its key", "HTTPS certificate: %v", err)
		return
	}
	leaf := cert.Leaf()
	if left := time.Until(leaf.NotAfter); left < 7*24*time.Hour {
		d.bad("renew the certificate, then: systemctl reload jtbot (SIGHUP)", "HTTPS certificate: %s", server.DescribeCert(leaf))
		return
	}
	kind := "issued by " + leaf.Issuer.CommonName
	if server.SelfSigned(leaf) {
		kind = "self-signed: uploaded to Telegram with setWebhook"
	}
	d.ok("HTTPS certificate: %s; %s", server.DescribeCert(leaf), kind)
}

// checkACME reports the certificate jtbot cached for TLS_DOMAIN; none yet
// is normal before the first start.
func (d *doctor) checkACME(cfg *config.Config) {
	dir := server.ACMECacheDir(cfg.DBPath)
	leaf, err := server.CachedACMECert(dir, cfg.TLSDomain)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.ok("HTTPS for %s over ACME: no certificate issued yet; jtbot requests one at start, which needs DNS for %s pointing at this host and port 443 (and 80 with LISTEN_ADDR :443) reachable from the internet",
			cfg.TLSDomain, cfg.TLSDomain)
	case errors.Is(err, os.ErrPermission):
		d.bad("run doctor as root (sudo): the cache is private to jtbot's user", "HTTPS certificate cached in %s: %v", dir, err)
	case err != nil:
		d.bad("delete the file; jtbot requests a new certificate at start", "HTTPS certificate cached in %s: %v", dir, err)
	case time.Until(leaf.NotAfter) < 7*24*time.Hour:
		// autocert renews 30 days ahead: this close to expiry, renewal fails.
		d.bad(fmt.Sprintf("check that DNS for %s points here, that port 443 (and 80) is reachable, and jtbot's log", cfg.TLSDomain),
			"HTTPS certificate not renewed: %s", server.DescribeCert(leaf))
	default:
		d.ok("HTTPS certificate over ACME: %s; issued by %s", server.DescribeCert(leaf), leaf.Issuer.CommonName)
	}
}
