package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestNotifierReadsTheEnvironGiven(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", "/nonexistent/process-wide.sock") // must not be read

	n := NewNotifier([]string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=20000", "WATCHDOG_PID=" + strconv.Itoa(os.Getpid())})
	if err := n.Send("READY=1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Watchdog(ctx, func() error { return nil })
	buf := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, want := range []string{"READY=1", "WATCHDOG=1"} {
		k, err := conn.Read(buf)
		if err != nil || string(buf[:k]) != want {
			t.Fatalf("read %q, %v; want %q", buf[:k], err, want)
		}
	}

	if NewNotifier(nil).Send("READY=1") != nil {
		t.Errorf("outside systemd Send must do nothing")
	}
	if d := NewNotifier([]string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=20000", "WATCHDOG_PID=1"}).watchdog; d != 0 {
		t.Errorf("a watchdog meant for another process: %v", d)
	}
}
