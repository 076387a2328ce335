// Command jtbot joins a Telegram bot to a Jira site, both ways.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Set by the build (-ldflags "-X main.version=… -X main.commit=…").
var (
	version = "dev"
	commit  = "none"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	code := runWith(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr, hup)
	stop()
	os.Exit(code)
}
