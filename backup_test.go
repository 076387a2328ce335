package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/server"
	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
)

// fakeDaemon answers GET /backup on the control socket of db with h.
func fakeDaemon(t *testing.T, db string, h http.Handler) {
	t.Helper()
	ln, err := net.Listen("unix", db+".sock")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// validDatabase is the bytes of a fresh jtbot database.
func validDatabase(t *testing.T) []byte {
	t.Helper()
	s, err := storage.Open(filepath.Join(t.TempDir(), "src.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBackupRefusesABrokenCopy(t *testing.T) {
	good := validDatabase(t)
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	tests := []struct {
		name string
		h    http.Handler
		want string
	}{
		{"stream cut, no trailer", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write(good[:len(good)/2])
		}), "did not confirm"},
		{"connection dropped half way", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.Write(good[:len(good)/2])
			w.(http.Flusher).Flush()
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
		}), "backup incomplete"},
		{"daemon's copy fails after the 200", server.BackupHandler(func(w io.Writer) (int64, error) {
			n, _ := w.Write(good[:4096])
			return int64(n), errors.New("disk read error")
		}, quiet), "disk read error"},
		{"whole stream of something else", server.BackupHandler(func(w io.Writer) (int64, error) {
			n, err := w.Write(bytes.Repeat([]byte("x"), 8192))
			return int64(n), err
		}, quiet), "the copy does not open"},
		{"daemon refuses", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}), "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "jtbot.db")
			fakeDaemon(t, db, tt.h)
			out := filepath.Join(dir, "out")
			os.Mkdir(out, 0o700)
			dest := filepath.Join(out, "copy.db")
			code, msg := command([]string{"DB_PATH=" + db}, "backup", dest)
			if code == 0 || !strings.Contains(msg, tt.want) {
				t.Errorf("exit %d, want non-zero with %q:\n%s", code, tt.want, msg)
			}
			if left, _ := os.ReadDir(out); len(left) != 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
}

func TestBackupThroughSocketIsValid(t *testing.T) {
	dir := t.TempDir()
	src, err := storage.Open(filepath.Join(dir, "live.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.SetChatProject(-100, "OPS"); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "jtbot.db")
	fakeDaemon(t, db, server.BackupHandler(src.Backup, logrus.New()))
	dest := filepath.Join(dir, "copy.db")
	if code, msg := command([]string{"DB_PATH=" + db}, "backup", dest); code != 0 {
		t.Fatalf("exit %d:\n%s", code, msg)
	}
	if err := verifyBackup(dest); err != nil {
		t.Fatal(err)
	}
	c, err := storage.Open(dest, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m, err := c.ChatProjects(); err != nil || m[-100] != "OPS" {
		t.Errorf("copy lacks the data: %v %v", m, err)
	}
}
