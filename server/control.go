package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/jtbot/jtbot/storage"
)

// The control socket lets `jtbot backup` and `jtbot queue` reach a running
// daemon, which holds the database's lock. It sits beside the database,
// mode 0600: whoever may read the database may use it, nobody else.
func socketPath(dbPath string) string { return dbPath + ".sock" }

// Trailers of GET /backup. A backup is whole only when the stream ends with
// BackupStatus "ok" and its length and SHA-256 match what arrived: the
// status line (200) is sent before the copy is, so a copy that fails half
// way can only say so at the end.
const (
	trailerStatus = "Jtbot-Backup-Status"
	trailerLength = "Jtbot-Backup-Length"
	trailerSHA256 = "Jtbot-Backup-Sha256"
)

// ServeControl serves the control socket of store until stop is called.
func ServeControl(store *storage.Store, log logrus.FieldLogger) (stop func(), err error) {
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
	srv := &http.Server{Handler: controlMux(store, log), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Warn("control socket stopped")
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
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

func controlMux(store *storage.Store, log logrus.FieldLogger) *http.ServeMux {
	mux := http.NewServeMux()
	// Profiles for the operator, only on this private socket:
	//   curl --unix-socket jtbot.db.sock http://jtbot/debug/pprof/profile?seconds=10
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("GET /backup", BackupHandler(store.Backup, log))
	mux.HandleFunc("GET /queue", func(w http.ResponseWriter, r *http.Request) {
		report, err := ReadQueue(store)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(report)
	})
	mux.HandleFunc("GET /mappings", func(w http.ResponseWriter, r *http.Request) {
		m, err := store.ChatProjects()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(m)
	})
	mux.HandleFunc("GET /subscriptions", func(w http.ResponseWriter, r *http.Request) {
		subs, err := store.Subscriptions()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(subs)
	})
	mux.HandleFunc("POST /queue/{action}/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		if err := ActOnQueue(store, r.PathValue("action"), id); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
		}
	})
	return mux
}

// BackupHandler streams what backup writes, then the trailers that let
// the client tell a whole copy from a broken one.
func BackupHandler(backup func(io.Writer) (int64, error), log logrus.FieldLogger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", trailerStatus+", "+trailerLength+", "+trailerSHA256)
		w.Header().Set("Content-Type", "application/octet-stream")
		sum := sha256.New()
		n, err := backup(io.MultiWriter(w, sum))
		if err != nil {
			log.WithError(err).Error("backup failed")
			w.Header().Set(trailerStatus, "failed: "+err.Error())
			return
		}
		w.Header().Set(trailerLength, strconv.FormatInt(n, 10))
		w.Header().Set(trailerSHA256, hex.EncodeToString(sum.Sum(nil)))
		w.Header().Set(trailerStatus, "ok")
	})
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

// ReadQueue reports the queue depth and the dead letters of store.
func ReadQueue(store *storage.Store) (QueueReport, error) {
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

// ActOnQueue retries ("retry") or drops ("drop") the dead letter id.
func ActOnQueue(store *storage.Store, action string, id uint64) error {
	switch action {
	case "retry":
		return store.Revive(id)
	case "drop":
		return store.Drop(id)
	}
	return fmt.Errorf("unknown action %q", action)
}

// Control is the client end of a running daemon's control socket.
type Control struct {
	client *http.Client
}

// DialControl returns the control client of the daemon that holds dbPath,
// or false when no daemon answers.
func DialControl(dbPath string) (*Control, bool) {
	conn, err := net.DialTimeout("unix", socketPath(dbPath), time.Second)
	if err != nil {
		return nil, false
	}
	conn.Close()
	return &Control{client: &http.Client{
		Timeout: 10 * time.Minute, // a backup of a large database takes a while
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath(dbPath))
		}},
	}}, true
}

// ErrBackupIncomplete means the daemon's copy did not arrive whole.
var ErrBackupIncomplete = errors.New("control: backup incomplete")

// Backup copies the daemon's database to w and returns the bytes written.
// It fails unless the daemon vouched, at the end of the stream, for
// exactly what arrived.
func (c *Control) Backup(w io.Writer) (int64, error) {
	resp, err := c.client.Get("http://jtbot/backup")
	if err != nil {
		return 0, fmt.Errorf("control: backup: %w", err)
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return 0, err
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, sum), resp.Body)
	if err != nil {
		return n, fmt.Errorf("%w after %d bytes: %w", ErrBackupIncomplete, n, err)
	}
	return n, checkTrailer(resp.Trailer, n, sum)
}

func checkTrailer(t http.Header, n int64, sum hash.Hash) error {
	if status := t.Get(trailerStatus); status != "ok" {
		if status == "" {
			status = "the daemon did not confirm the copy"
		}
		return fmt.Errorf("%w: %s", ErrBackupIncomplete, status)
	}
	if want := t.Get(trailerLength); want != strconv.FormatInt(n, 10) {
		return fmt.Errorf("%w: got %d bytes, the daemon sent %s", ErrBackupIncomplete, n, want)
	}
	if want := t.Get(trailerSHA256); want != hex.EncodeToString(sum.Sum(nil)) {
		return fmt.Errorf("%w: checksum mismatch", ErrBackupIncomplete)
	}
	return nil
}

// Queue is the daemon's queue report.
func (c *Control) Queue() (QueueReport, error) {
	var r QueueReport
	resp, err := c.client.Get("http://jtbot/queue")
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return r, err
	}
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

// Mappings are the chat → project mappings made at run time (/link).
func (c *Control) Mappings() (map[int64]string, error) {
	var m map[int64]string
	resp, err := c.client.Get("http://jtbot/mappings")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return nil, err
	}
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

// Subscriptions are the subscriptions the running daemon holds (/subscribe).
func (c *Control) Subscriptions() ([]storage.Subscription, error) {
	var subs []storage.Subscription
	resp, err := c.client.Get("http://jtbot/subscriptions")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return nil, err
	}
	return subs, json.NewDecoder(resp.Body).Decode(&subs)
}

// Act retries or drops a dead letter in the daemon.
func (c *Control) Act(action string, id uint64) error {
	resp, err := c.client.Post(fmt.Sprintf("http://jtbot/queue/%s/%d", action, id), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return statusError(resp)
}

func statusError(resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return fmt.Errorf("daemon answered %s: %s", resp.Status, msg)
}
