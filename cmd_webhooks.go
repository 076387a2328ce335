package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/telegram"
)

// webhooksCmd registers, removes or shows the Telegram and Jira webhooks.
type webhooksCmd struct {
	cfg     *config.Config
	out     io.Writer
	baseURL string
	service string
}

func cmdWebhooks(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base-url", "", "public base URL of jtbot, e.g. https://bot.example.com")
	service := fs.String("service", "all", "jira, telegram or all")
	remove := fs.Bool("remove", false, "delete jtbot's webhooks instead")
	status := fs.Bool("status", false, "show the webhooks")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitConfig
	}
	if *service != "all" && *service != "jira" && *service != "telegram" {
		fmt.Fprintln(stderr, "-service: must be jira, telegram or all")
		return exitConfig
	}
	if !*status && !*remove && *base == "" {
		fmt.Fprintln(stderr, "-base-url: required (the public https URL jtbot is reached at)")
		return exitConfig
	}
	if *base != "" {
		if u, err := url.Parse(*base); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			fmt.Fprintf(stderr, "-base-url: %q is not an absolute http(s) URL\n", *base)
			return exitConfig
		}
	}
	// Webhook settings are what this command sets: don't require them.
	cfg, err := config.Load(environ, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	w := &webhooksCmd{cfg: cfg, out: stdout, baseURL: strings.TrimRight(*base, "/"), service: *service}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	switch {
	case *status:
		err = w.status(ctx)
	case *remove:
		err = w.remove(ctx)
	default:
		err = w.register(ctx)
	}
	if err != nil {
		fmt.Fprintln(stderr, "jtbot webhooks:", err)
		return exitFail
	}
	return exitOK
}

func (w *webhooksCmd) wants(service string) bool { return w.service == "all" || w.service == service }

func (w *webhooksCmd) jiraClient() (*jira.Client, error) {
	return jira.New(w.cfg.JiraServer, w.cfg.JiraUser, w.cfg.JiraToken, &http.Client{Timeout: 20 * time.Second})
}

func (w *webhooksCmd) register(ctx context.Context) error {
	if w.wants("telegram") {
		tg, err := newTelegramClient(w.cfg)
		if err != nil {
			return err
		}
		target := w.baseURL + "/webhook/telegram/"
		if err := tg.SetWebhook(ctx, telegram.Webhook{URL: target, Secret: w.cfg.TelegramWebhookSecret}); err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		fmt.Fprintf(w.out, "telegram: webhook set to %s (with the secret token)\n", target)
		if w.cfg.TelegramWebhookURL != "" && w.cfg.TelegramWebhookURL != target {
			fmt.Fprintf(w.out, "telegram: note: TELEGRAM_WEBHOOK_URL is %s; jtbot sets that one at start\n", w.cfg.TelegramWebhookURL)
		}
	}
	if w.wants("jira") {
		if w.cfg.JiraWebhookSecret == "" {
			return errors.New("jira: set JIRA_WEBHOOK_SECRET first: jtbot refuses unsigned Jira webhooks")
		}
		jc, err := w.jiraClient()
		if err != nil {
			return err
		}
		hook := jira.NewWebhook(w.baseURL+"/webhook/jira/", w.cfg.JiraWebhookSecret, projectsOf(w.cfg))
		created, err := jc.SaveWebhook(ctx, hook)
		if err != nil {
			return fmt.Errorf("jira: %w (an admin account is needed to manage webhooks)", err)
		}
		verb := "updated"
		if created {
			verb = "created"
		}
		fmt.Fprintf(w.out, "jira: webhook %q %s: %s, events %s, filter %q\n", jira.WebhookName, verb, hook.URL, strings.Join(hook.Events, ","), hook.JQL())
	}
	return nil
}

func (w *webhooksCmd) remove(ctx context.Context) error {
	if w.wants("telegram") {
		tg, err := newTelegramClient(w.cfg)
		if err != nil {
			return err
		}
		if err := tg.DeleteWebhook(ctx, false); err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		fmt.Fprintln(w.out, "telegram: webhook deleted (pending updates kept)")
	}
	if w.wants("jira") {
		jc, err := w.jiraClient()
		if err != nil {
			return err
		}
		deleted, err := jc.DeleteWebhook(ctx)
		if err != nil {
			return fmt.Errorf("jira: %w", err)
		}
		if deleted {
			fmt.Fprintf(w.out, "jira: webhook %q deleted\n", jira.WebhookName)
		} else {
			fmt.Fprintf(w.out, "jira: no webhook named %q; nothing to delete\n", jira.WebhookName)
		}
	}
	return nil
}

func (w *webhooksCmd) status(ctx context.Context) error {
	if w.wants("telegram") {
		tg, err := newTelegramClient(w.cfg)
		if err != nil {
			return err
		}
		info, err := tg.WebhookInfo(ctx)
		if err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		url := info.URL
		if url == "" {
			url = "(none: poll mode or not registered)"
		}
		fmt.Fprintf(w.out, "telegram: url %s, pending %d\n", url, info.PendingUpdateCount)
		if info.LastErrorMessage != "" {
			fmt.Fprintf(w.out, "telegram: last error %s: %s\n", time.Unix(info.LastErrorDate, 0).Format(time.RFC3339), info.LastErrorMessage)
		}
	}
	if w.wants("jira") {
		jc, err := w.jiraClient()
		if err != nil {
			return err
		}
		hooks, err := jc.Webhooks(ctx)
		if err != nil {
			return fmt.Errorf("jira: %w", err)
		}
		n := 0
		for _, h := range hooks {
			if h.Name == jira.WebhookName || strings.Contains(h.URL, "/webhook/jira/") {
				n++
				fmt.Fprintf(w.out, "jira: %q -> %s, enabled %v, events %s, filter %q\n", h.Name, hideSecret(h.URL), h.Enabled, strings.Join(h.Events, ","), h.JQL())
			}
		}
		if n == 0 {
			fmt.Fprintln(w.out, "jira: no webhook points at jtbot")
		}
	}
	return nil
}

// hideSecret masks a ?secret= in a webhook URL before it is printed.
func hideSecret(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Query().Get("secret") == "" {
		return raw
	}
	q := u.Query()
	q.Set("secret", "REDACTED")
	u.RawQuery = q.Encode()
	return u.String()
}

// newTelegramClient is the Telegram adapter as the operator's commands need
// it: no long poll, so a short timeout.
func newTelegramClient(cfg *config.Config) (*telegram.Client, error) {
	return telegram.New(telegram.Options{APIURL: cfg.TelegramAPIURL, Token: cfg.TelegramToken,
		HTTP: &http.Client{Timeout: 15 * time.Second}})
}
