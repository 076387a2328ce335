package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/bot"
	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/jira/oauth"
	"github.com/jtbot/jtbot/metrics"
	"github.com/jtbot/jtbot/server"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

// shutdownGrace bounds a clean stop (DESIGN §1: exit within 10 s).
const shutdownGrace = 8 * time.Second

// run is the whole program short of signal handling, so tests can embed it.
func run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, environ, stdout, stderr, nil)
}

// runWith is run with a channel of SIGHUPs, which reload the TLS certificate.
func runWith(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer, reload <-chan os.Signal) int {
	fs := flag.NewFlagSet("jtbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	poll := fs.Bool("poll", false, "long-poll Telegram instead of receiving its webhook (local development)")
	showVersion := fs.Bool("version", false, "print version and exit")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if *showVersion {
		fmt.Fprintf(stdout, "jtbot %s (commit %s, %s)\n", version, commit, runtime.Version())
		return exitOK
	}
	if fs.NArg() > 0 {
		return runCommand(ctx, fs.Arg(0), fs.Args()[1:], environ, stdout, stderr)
	}
	cfg, err := config.Load(environ, *poll)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	log := newLogger(cfg, stderr)
	return daemon(ctx, cfg, log, hooks{reload: reload, environ: environ})
}

// runCommand runs one of the operator's commands.
func runCommand(ctx context.Context, name string, args, environ []string, stdout, stderr io.Writer) int {
	switch name {
	case "backup":
		return cmdBackup(args, environ, stdout, stderr)
	case "queue":
		return cmdQueue(args, environ, stdout, stderr)
	case "doctor":
		return cmdDoctor(ctx, args, environ, stdout, stderr)
	case "webhooks":
		return cmdWebhooks(ctx, args, environ, stdout, stderr)
	}
	fmt.Fprintf(stderr, "jtbot: unknown command %q (commands: backup, doctor, queue, webhooks)\n", name)
	return exitConfig
}

func newLogger(cfg *config.Config, out io.Writer) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(out)
	if cfg.LogFormat == "json" {
		log.SetFormatter(&logrus.JSONFormatter{})
	} else {
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	}
	level, _ := logrus.ParseLevel(cfg.LogLevel) // validated by config
	log.SetLevel(level)
	return log
}

// hooks connect the daemon to its caller.
type hooks struct {
	// ready, when set, learns the listener's address once it accepts.
	ready func(addr string)
	// reload delivers SIGHUP: reload the TLS certificate from its files.
	reload <-chan os.Signal
	// acme replaces the ACME CA's HTTP client and the HTTP-01 address.
	acme server.ACMEOptions
	// environ is the process environment, for systemd's notify socket.
	environ []string
	// serving, when set, learns that the daemon works: the bot took up
	// the queue and Telegram's updates flow (what /healthz reports).
	serving func()
	// reloaded, when set, learns that a SIGHUP was handled.
	reloaded func()
	// watchInterval, when set, replaces defaultWatchInterval: how often
	// the watchers refresh the webhook and certificate gauges.
	watchInterval time.Duration
}

// daemon serves until ctx ends.
func daemon(ctx context.Context, cfg *config.Config, logger *logrus.Logger, h hooks) int {
	log := logger.WithField("component", "main")
	mode := "webhook"
	if cfg.Poll {
		mode = "poll"
	}
	log.WithFields(logrus.Fields{"version": version, "mode": mode, "listen": cfg.ListenAddr}).Info("jtbot starting")
	log.WithFields(fields(cfg.Redacted())).Debug("settings")
	if cfg.JiraWebhookSecret == "" {
		log.Warn("JIRA_WEBHOOK_SECRET is not set: every request to /webhook/jira/ will get 401")
	}

	store, err := storage.Open(cfg.DBPath, storage.Options{LockTimeout: 3 * time.Second})
	if err != nil {
		log.WithError(err).Error("cannot open the database")
		return exitFail
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.WithError(err).Error("closing the database")
		}
	}()
	if code := useSecretKey(cfg, store, log); code != exitOK {
		return code
	}

	stopControl, err := server.ServeControl(store, log)
	if err != nil {
		log.WithError(err).Error("cannot serve the control socket")
		return exitFail
	}
	defer stopControl()

	stats := metrics.New(store)
	jc, err := jira.New(cfg.JiraServer, cfg.JiraUser, cfg.JiraToken,
		&http.Client{Timeout: 30 * time.Second, Transport: stats.Transport("jira", nil)})
	if err != nil {
		log.WithError(err).Error("cannot build the Jira client")
		return exitFail
	}
	jc.SetSearchSettle(cfg.JiraSearchSettle)
	var cert *server.CertFiles
	if cfg.TLS() {
		if cert, err = server.LoadCertFiles(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			log.WithError(err).Error("cannot load the TLS certificate")
			return exitFail
		}
		log.WithField("certificate", server.DescribeCert(cert.Leaf())).Info("serving HTTPS")
		go server.ReloadOnSignal(ctx, cert, h.reload, log, h.reloaded)
	}
	var auto *server.ACME
	if cfg.TLSDomain != "" {
		opts := h.acme
		opts.UserAgent = "jtbot/" + version
		if auto, err = server.StartACME(cfg, opts, log); err != nil {
			log.WithError(err).Error("cannot set up ACME")
			return exitFail
		}
		defer auto.Stop()
	}
	tgc, err := telegram.New(telegram.Options{APIURL: cfg.TelegramAPIURL, Token: cfg.TelegramToken, Log: logger,
		// Longer than the 30 s long poll.
		HTTP: &http.Client{Timeout: 60 * time.Second, Transport: stats.Transport("telegram", nil)}})
	if err != nil {
		log.WithError(err).Error("cannot build the Telegram client")
		return exitFail
	}
	// Always on: without a key the hook removes /connect arguments, so a
	// token sent while personal accounts are off is not stored either.
	inbound := telegram.NewInbound(store, cfg.TelegramWebhookSecret, stats, logger,
		telegram.WithRewrite(telegram.SealConnect(cfg.SecretKey)))
	var hook *telegram.Webhook
	if !cfg.Poll {
		hook = &telegram.Webhook{URL: cfg.TelegramWebhookURL, Secret: cfg.TelegramWebhookSecret, Cert: webhookCert(cfg, cert)}
		// An embedding test learns (and sets) the public URL only once the
		// listener is up; setWebhook runs after that.
		ready := h.ready
		h.ready = func(addr string) {
			if ready != nil {
				ready(addr)
			}
			hook.URL = cfg.TelegramWebhookURL
		}
	}
	botOpts := bot.Options{Config: cfg, Store: store, Jira: jc, Telegram: tgc, Log: logger, Metrics: stats,
		PersonalHTTP: &http.Client{Timeout: 30 * time.Second, Transport: stats.Transport("jira", nil)}}
	var provider *oauth.Provider
	if cfg.OAuth() {
		if provider, err = newOAuthProvider(ctx, cfg, jc, botOpts.PersonalHTTP, log); err != nil {
			log.WithError(err).Error("cannot set up the Jira OAuth app")
			return exitFail
		}
		botOpts.OAuth = provider
	}
	parts := daemonParts{
		bot:      bot.New(botOpts),
		receiver: telegram.NewReceiver(tgc, inbound, hook),
	}
	var callback http.Handler
	if provider != nil {
		callback = oauth.Callback(provider, parts.bot, parts.bot, logger, time.Now)
	}
	interval := cmp.Or(h.watchInterval, defaultWatchInterval)
	parts.watchers = append(parts.watchers, func(ctx context.Context) { watchCerts(ctx, interval, cfg, cert, stats) })
	if hook != nil {
		parts.watchers = append(parts.watchers, func(ctx context.Context) { watchWebhook(ctx, interval, tgc, stats, log) })
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		log.WithError(err).Error("cannot listen")
		return exitFail
	}
	srv := server.New(server.Options{
		Telegram:       inbound.Handler(),
		Jira:           jira.WebhookHandler(cfg.JiraWebhookSecret, store, stats, logger.WithField("component", "jira")),
		OAuthCallback:  callback,
		Metrics:        stats.Handler(),
		MetricsToken:   cfg.MetricsToken,
		TrustedProxies: cfg.TrustedProxies,
		Health: []server.Check{
			{Name: "database", Err: func() error { _, err := store.Schema(); return err }},
			{Name: "telegram", Err: parts.healthy},
		},
		Log: logger,
	})
	if cert != nil {
		srv.TLSConfig = server.TLSConfig(cert.GetCertificate)
	}
	if auto != nil {
		srv.TLSConfig = auto.TLSConfig()
		go auto.Prefetch(cfg.TLSDomain)
	}
	return serve(ctx, srv, ln, parts, store, log, h)
}

// useSecretKey hands SECRET_KEY to the store. A key that cannot open the
// personal connections stored (or none, with some stored) is a setting to
// fix, exit 2: starting anyway would silently forget everyone's connection.
func useSecretKey(cfg *config.Config, store *storage.Store, log logrus.FieldLogger) int {
	err := store.UseKey(cfg.SecretKey)
	var bad *storage.KeyError
	switch {
	case errors.As(err, &bad):
		log.Error(bad.Error())
		return exitConfig
	case err != nil:
		log.WithError(err).Error("cannot check SECRET_KEY against the database")
		return exitFail
	case cfg.SecretKey == nil:
		return exitOK
	}
	n, err := store.CountAccounts()
	if err != nil {
		log.WithError(err).Error("cannot count the personal Jira connections")
		return exitFail
	}
	log.WithFields(logrus.Fields{"connected": n, "oauth": cfg.OAuth()}).Info("personal Jira accounts on")
	return exitOK
}

// newOAuthProvider builds the OAuth app's provider for the site's kind:
// Atlassian's 3LO for Cloud, the site's own provider for Data Center. The
// site is asked (serverInfo); while it cannot answer, an *.atlassian.net
// address is taken for Cloud and anything else for Data Center.
func newOAuthProvider(ctx context.Context, cfg *config.Config, jc *jira.Client, hc *http.Client, log logrus.FieldLogger) (*oauth.Provider, error) {
	ask, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cloud, err := jc.IsCloud(ask)
	if err != nil {
		cloud = strings.HasSuffix(strings.ToLower(hostOf(cfg.JiraServer)), ".atlassian.net")
		log.WithError(err).WithField("cloud", cloud).Warn("cannot ask Jira whether it is Cloud: guessed from JIRA_SERVER")
	}
	d := oauth.DataCenter
	if cloud {
		d = oauth.Cloud
	}
	return oauth.New(oauth.Config{Server: cfg.JiraServer, ClientID: cfg.JiraOAuthClientID, ClientSecret: cfg.JiraOAuthClientSecret,
		RedirectURL: cfg.OAuthCallbackURL(), AuthURL: cfg.AtlassianAuthURL, APIURL: cfg.AtlassianAPIURL, Deployment: d, HTTPClient: hc})
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// daemonParts are what runs beside the HTTP server.
type daemonParts struct {
	bot      *bot.Bot
	receiver *telegram.Receiver
	// watchers refresh gauges until their context ends.
	watchers []func(context.Context)
}

func (p daemonParts) healthy() error {
	if err := p.receiver.Healthy(); err != nil {
		return err
	}
	return p.bot.Healthy()
}

// serve runs the HTTP server and the bot as one group: when either stops,
// or ctx ends, both stop.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, parts daemonParts, store *storage.Store, log logrus.FieldLogger, h hooks) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	httpDone := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			httpDone <- srv.ServeTLS(ln, "", "")
			return
		}
		httpDone <- srv.Serve(ln)
	}()
	log.WithField("addr", ln.Addr().String()).Info("listening")
	if h.ready != nil {
		h.ready(ln.Addr().String())
	}

	botDone := make(chan error, 1)
	go func() { botDone <- parts.bot.Run(ctx) }()
	// The receiver and the watchers stop with ctx; shutdown waits for them.
	var others sync.WaitGroup
	others.Go(func() { parts.receiver.Run(ctx) })
	for _, w := range parts.watchers {
		others.Go(func() { w(ctx) })
	}
	if h.serving != nil {
		others.Go(func() {
			for _, ready := range []<-chan struct{}{parts.bot.Ready(), parts.receiver.Ready()} {
				select {
				case <-ready:
				case <-ctx.Done():
					return
				}
			}
			h.serving()
		})
	}
	defer func() { cancel(); others.Wait() }()

	// Ready once the listener accepts: from here on nothing sent to jtbot is
	// lost, even while Telegram or Jira are still out of reach.
	sd := server.NewNotifier(h.environ)
	if err := sd.Send("READY=1\nSTATUS=serving"); err != nil {
		log.WithError(err).Warn("sd_notify")
	}
	go sd.Watchdog(ctx, func() error {
		if _, err := store.Schema(); err != nil {
			return err
		}
		return nil
	})

	code := exitOK
	botStopped := false
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		log.WithError(err).Error("HTTP server stopped")
		code = exitFail
	case err := <-botDone:
		botStopped = true
		if err != nil {
			log.WithError(err).Error("bot stopped")
			code = exitFail
		}
	}
	log.Info("shutting down")
	sd.Send("STOPPING=1")
	shutdownCtx, done := context.WithTimeout(context.Background(), shutdownGrace)
	defer done()
	// Stop accepting first: whatever was acknowledged is already on disk.
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.WithError(err).Warn("HTTP shutdown")
	}
	cancel()
	if botStopped {
		return code
	}
	select {
	case <-botDone:
	case <-shutdownCtx.Done():
		log.Warn("bot did not stop in time")
	}
	return code
}

func fields(m map[string]string) logrus.Fields {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	f := logrus.Fields{}
	for _, k := range keys {
		f[strings.ToLower(k)] = m[k]
	}
	return f
}

// webhookCert is the certificate file setWebhook uploads: only a
// self-signed one, which Telegram cannot otherwise trust.
func webhookCert(cfg *config.Config, cert *server.CertFiles) string {
	if cert != nil && server.SelfSigned(cert.Leaf()) {
		return cfg.TLSCertFile
	}
	return ""
}
