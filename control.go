package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/jtbot/jtbot/storage"
	"github.com/sirupsen/logrus"
)

// The control socket lets `jtbot backup` and `jtbot queue` reach a running
// daemon, which holds the database's lock. It sits beside the database,
// mode 0600: whoever may read the database may use it, nobody else.
func socketPath(dbPath string) string { return dbPath + ".sock" }

// serveControl serves the control socket until ctx ends.
func serveControl(ctx context.Context, store *storage.Store, log logrus.FieldLogger) (stop func(), err error) {
	path := socketPath(store.Path())
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	srv := &http.Server{Handler: controlMux(store), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Warn("control socket stopped")
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		os.Remove(path)
	}, nil
}

// removeStaleSocket deletes a socket left by a crashed daemon; the database
// lock, already held, proves no other daemon uses it.
func removeStaleSocket(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control socket: %w", err)
	}
	return nil
}

func controlMux(store *storage.Store) *http.ServeMux {
	mux := http.NewServeMux()
	// Profiles for the operator, only on this private socket:
	//   curl --unix-socket jtbot.db.sock http://jtbot/debug/pprof/profile?seconds=10
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		store.Backup(w)
	})
	mux.HandleFunc("GET /queue", func(w http.ResponseWriter, r *http.Request) {
		report, err := queueReport(store)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(report)
	})
	mux.HandleFunc("POST /queue/{action}/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		if err := queueAction(store, r.PathValue("action"), id); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
		}
	})
	return mux
}

// QueueReport is what `jtbot queue` shows.
type QueueReport struct {
	Queued int          `json:"queued"`
	Dead   []DeadLetter `json:"dead"`
}

// DeadLetter describes a dead item without its payload (message bodies
// stay in the database).
type DeadLetter struct {
	ID        uint64    `json:"id"`
	Source    string    `json:"source"`
	Received  time.Time `json:"received"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	Bytes     int       `json:"bytes"`
}

func queueReport(store *storage.Store) (QueueReport, error) {
	items, err := store.Dead()
	if err != nil {
		return QueueReport{}, err
	}
	queued, _ := store.Depth()
	r := QueueReport{Queued: queued, Dead: []DeadLetter{}}
	for _, it := range items {
		r.Dead = append(r.Dead, DeadLetter{ID: it.ID, Source: it.Source, Received: it.Received,
			Attempts: it.Attempts, LastError: it.LastError, Bytes: len(it.Payload)})
	}
	return r, nil
}

func queueAction(store *storage.Store, action string, id uint64) error {
	switch action {
	case "retry":
		return store.Revive(id)
	case "drop":
		return store.Drop(id)
	}
	return fmt.Errorf("unknown action %q", action)
}

// controlClient talks to a running daemon over its socket.
func controlClient(dbPath string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Minute, // a backup of a large database takes a while
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath(dbPath))
		}},
	}
}

// daemonRunning reports whether a daemon answers on the socket.
func daemonRunning(dbPath string) bool {
	conn, err := net.DialTimeout("unix", socketPath(dbPath), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func copyResponse(resp *http.Response, w io.Writer) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("daemon answered %s: %s", resp.Status, msg)
	}
	_, err := io.Copy(w, resp.Body)
	return err
}
