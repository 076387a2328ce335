package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/jtbot/jtbot/storage"
)

// dbPathFrom is DB_PATH from the environment, or its default: backup and
// queue need nothing else, so they don't demand the whole configuration.
func dbPathFrom(environ []string) string {
	path := "jtbot.db"
	for _, kv := range environ {
		if len(kv) > 8 && kv[:8] == "DB_PATH=" {
			path = kv[8:]
		}
	}
	return path
}

// cmdBackup writes a consistent copy of the database to FILE: through the
// running daemon when there is one (it holds the lock), else directly.
func cmdBackup(args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: jtbot backup FILE   (DB_PATH names the database)") }
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return exitConfig
	}
	dbPath, dest := dbPathFrom(environ), fs.Arg(0)
	n, err := backup(dbPath, dest)
	if err != nil {
		fmt.Fprintln(stderr, "jtbot backup:", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", dbPath, dest, n)
	return exitOK
}

func backup(dbPath, dest string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".jtbot-backup-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		return 0, err
	}
	if err := writeBackup(dbPath, tmp); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, err
	}
	info, _ := tmp.Stat()
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	// A half-written backup must never sit under the name asked for.
	return info.Size(), os.Rename(tmp.Name(), dest)
}

func writeBackup(dbPath string, w io.Writer) error {
	if daemonRunning(dbPath) {
		resp, err := controlClient(dbPath).Get("http://jtbot/backup")
		if err != nil {
			return err
		}
		return copyResponse(resp, w)
	}
	store, err := openExisting(dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	_, err = store.Backup(w)
	return err
}

func openExisting(dbPath string) (*storage.Store, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("no database at %s (set DB_PATH)", dbPath)
	}
	return storage.Open(dbPath, storage.Options{LockTimeout: 3 * time.Second})
}

// cmdQueue lists the dead letters and the queue depth; -retry and -drop
// act on dead letters.
func cmdQueue(args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("queue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	retry := fs.String("retry", "", "move a dead letter (ID, or all) back to the queue")
	drop := fs.String("drop", "", "delete a dead letter (ID)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitConfig
	}
	q, closeQ, err := openQueue(dbPathFrom(environ))
	if err != nil {
		fmt.Fprintln(stderr, "jtbot queue:", err)
		return exitFail
	}
	defer closeQ()
	switch {
	case *retry != "":
		err = actOnDead(q, "retry", *retry, stdout)
	case *drop != "":
		err = actOnDead(q, "drop", *drop, stdout)
	default:
		err = listQueue(q, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "jtbot queue:", err)
		return exitFail
	}
	return exitOK
}

// queueAdmin is the queue seen through the daemon or directly.
type queueAdmin interface {
	report() (QueueReport, error)
	act(action string, id uint64) error
}

func openQueue(dbPath string) (queueAdmin, func(), error) {
	if daemonRunning(dbPath) {
		return socketQueue{controlClient(dbPath)}, func() {}, nil
	}
	store, err := openExisting(dbPath)
	if err != nil {
		return nil, nil, err
	}
	return localQueue{store}, func() { store.Close() }, nil
}

type localQueue struct{ store *storage.Store }

func (l localQueue) report() (QueueReport, error)       { return queueReport(l.store) }
func (l localQueue) act(action string, id uint64) error { return queueAction(l.store, action, id) }

type socketQueue struct{ client *http.Client }

func (s socketQueue) report() (QueueReport, error) {
	var r QueueReport
	resp, err := s.client.Get("http://jtbot/queue")
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("daemon answered %s", resp.Status)
	}
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

func (s socketQueue) act(action string, id uint64) error {
	resp, err := s.client.Post(fmt.Sprintf("http://jtbot/queue/%s/%d", action, id), "", nil)
	if err != nil {
		return err
	}
	return copyResponse(resp, io.Discard)
}

func listQueue(q queueAdmin, out io.Writer) error {
	r, err := q.report()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "queued: %d, dead letters: %d\n", r.Queued, len(r.Dead))
	if len(r.Dead) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSOURCE\tRECEIVED\tATTEMPTS\tBYTES\tLAST ERROR")
	for _, d := range r.Dead {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\n", d.ID, d.Source, d.Received.Local().Format(time.DateTime), d.Attempts, d.Bytes, d.LastError)
	}
	return tw.Flush()
}

func actOnDead(q queueAdmin, action, which string, out io.Writer) error {
	var ids []uint64
	if which == "all" && action == "retry" {
		r, err := q.report()
		if err != nil {
			return err
		}
		for _, d := range r.Dead {
			ids = append(ids, d.ID)
		}
	} else {
		id, err := strconv.ParseUint(which, 10, 64)
		if err != nil {
			return errors.New("give a dead letter's ID, as jtbot queue lists them")
		}
		ids = []uint64{id}
	}
	for _, id := range ids {
		if err := q.act(action, id); err != nil {
			return fmt.Errorf("%s %d: %w", action, id, err)
		}
		fmt.Fprintf(out, "%s %d: done\n", action, id)
	}
	return nil
}
