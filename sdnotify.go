package main

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"
)

// notifier speaks systemd's sd_notify protocol: datagrams to the socket in
// NOTIFY_SOCKET. Outside systemd (no socket) it does nothing.
type notifier struct {
	socket string
}

func newNotifier() *notifier {
	n := &notifier{socket: os.Getenv("NOTIFY_SOCKET")}
	if len(n.socket) > 0 && n.socket[0] == '@' {
		n.socket = "\x00" + n.socket[1:] // abstract namespace
	}
	return n
}

func (n *notifier) send(state string) error {
	if n.socket == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.socket, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}

// watchdogInterval is how often systemd expects a sign of life, or 0.
func watchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0 // meant for another process
	}
	return time.Duration(usec) * time.Microsecond
}

// watchdog pings systemd at half the interval while healthy says so, so a
// wedged daemon is restarted.
func (n *notifier) watchdog(ctx context.Context, healthy func() error) {
	interval := watchdogInterval()
	if interval == 0 || n.socket == "" {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if healthy() == nil {
				n.send("WATCHDOG=1")
			}
		}
	}
}
