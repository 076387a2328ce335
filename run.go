package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/jtbot/jtbot/bot"
	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/metrics"
	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
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
	return daemon(ctx, cfg, log, hooks{reload: reload})
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
	acme acmeOptions
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

	stopControl, err := serveControl(ctx, store, log)
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
	var cert *fileCert
	if cfg.TLS() {
		if cert, err = loadFileCert(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			log.WithError(err).Error("cannot load the TLS certificate")
			return exitFail
		}
		log.WithField("certificate", describeCert(cert.leaf())).Info("serving HTTPS")
		go reloadCerts(ctx, cert, h.reload, log)
	}
	var auto *acmeServer
	if cfg.TLSDomain != "" {
		if auto, err = startACME(cfg, h.acme, log); err != nil {
			log.WithError(err).Error("cannot set up ACME")
			return exitFail
		}
		defer auto.stop()
	}
	b, err := bot.New(bot.Options{Config: cfg, Store: store, Jira: jc, Log: logger, Metrics: stats,
		WebhookCert: webhookCert(cfg, cert),
		// Longer than the 30 s long poll.
		HTTPClient: &http.Client{Timeout: 60 * time.Second, Transport: stats.Transport("telegram", nil)}})
	if err != nil {
		log.WithError(err).Error("cannot build the Telegram bot")
		return exitFail
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		log.WithError(err).Error("cannot listen")
		return exitFail
	}
	srv := newServer(cfg, store, b, stats, logger)
	if cert != nil {
		srv.TLSConfig = tlsConfig(cert.get)
	}
	if auto != nil {
		srv.TLSConfig = auto.tlsConfig()
		go auto.prefetch(cfg.TLSDomain)
	}
	return serve(ctx, srv, ln, b, store, log, h.ready)
}

// serve runs the HTTP server and the bot as one group: when either stops,
// or ctx ends, both stop.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, b *bot.Bot, store *storage.Store, log logrus.FieldLogger, ready func(string)) int {
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
	if ready != nil {
		ready(ln.Addr().String())
	}

	botDone := make(chan error, 1)
	go func() { botDone <- b.Run(ctx) }()

	// Ready once the listener accepts: from here on nothing sent to jtbot is
	// lost, even while Telegram or Jira are still out of reach.
	sd := newNotifier()
	if err := sd.send("READY=1\nSTATUS=serving"); err != nil {
		log.WithError(err).Warn("sd_notify")
	}
	go sd.watchdog(ctx, func() error {
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
	sd.send("STOPPING=1")
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

func newServer(cfg *config.Config, store *storage.Store, b *bot.Bot, stats *metrics.Metrics, log *logrus.Logger) *http.Server {
	mux := http.NewServeMux()
	guard := newGuard(time.Now)
	mux.Handle("/webhook/telegram/", guard.wrap(b.WebhookHandler()))
	mux.Handle("/webhook/jira/", guard.wrap(jira.WebhookHandler(cfg.JiraWebhookSecret, store, stats, log.WithField("component", "jira"))))
	mux.HandleFunc("/healthz", healthz(store, b))
	mux.Handle("GET /metrics", stats.Handler())
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		// net/http's own complaints (bad TLS handshakes, broken clients)
		// go to our log, not to stderr.
		ErrorLog: stdlog.New(log.WithField("component", "http").WriterLevel(logrus.DebugLevel), "", 0),
	}
}

func healthz(store *storage.Store, b *bot.Bot) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		if _, err := store.Schema(); err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if err := b.Healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
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
