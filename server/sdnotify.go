package server

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notifier speaks systemd's sd_notify protocol: datagrams to the socket in
// NOTIFY_SOCKET. Outside systemd (no socket) it does nothing.
type Notifier struct {
	socket   string
	watchdog time.Duration
}

// NewNotifier reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from
// environ (os.Environ's form).
func NewNotifier(environ []string) *Notifier {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	n := &Notifier{socket: vars["NOTIFY_SOCKET"], watchdog: watchdogInterval(vars)}
	if len(n.socket) > 0 && n.socket[0] == '@' {
		n.socket = "\x00" + n.socket[1:] // abstract namespace
	}
	return n
}

// Send sends one state, such as "READY=1".
func (n *Notifier) Send(state string) error {
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
func watchdogInterval(vars map[string]string) time.Duration {
	usec, err := strconv.ParseInt(vars["WATCHDOG_USEC"], 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := vars["WATCHDOG_PID"]; pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0 // meant for another process
	}
	return time.Duration(usec) * time.Microsecond
}

// Watchdog pings systemd at half the interval while healthy says so, so a
// wedged daemon is restarted. It returns when ctx ends.
func (n *Notifier) Watchdog(ctx context.Context, healthy func() error) {
	if n.watchdog == 0 || n.socket == "" {
		return
	}
	t := time.NewTicker(n.watchdog / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if healthy() == nil {
				n.Send("WATCHDOG=1")
			}
		}
	}
}
