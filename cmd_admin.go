package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/jtbot/jtbot/config"
	"github.com/jtbot/jtbot/server"
	"github.com/jtbot/jtbot/storage"
)

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
	dbPath, dest := config.DBPath(environ), fs.Arg(0)
	n, err := backup(dbPath, dest)
	if err != nil {
		fmt.Fprintln(stderr, "jtbot backup:", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", dbPath, dest, n)
	return exitOK
}

// backup writes the copy to a temporary file beside dest, checks it, and
// only then renames it to dest: a half-written or broken backup never sits
// under the name asked for, and nothing is left behind on failure.
func backup(dbPath, dest string) (n int64, err error) {
	dir := filepath.Dir(dest)
	tmp, err := os.CreateTemp(dir, ".jtbot-backup-*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return 0, err
	}
	if n, err = writeBackup(dbPath, tmp); err != nil {
		return n, err
	}
	if err := tmp.Sync(); err != nil {
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	if err := verifyBackup(tmp.Name()); err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return n, err
	}
	// The rename is durable only once the directory is.
	return n, syncDir(dir)
}

func writeBackup(dbPath string, w io.Writer) (int64, error) {
	if c, ok := server.DialControl(dbPath); ok {
		return c.Backup(w)
	}
	store, err := openExisting(dbPath)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	return store.Backup(w)
}

// verifyBackup checks the copy before it replaces anything.
func verifyBackup(path string) error {
	if err := storage.Verify(path); err != nil {
		return fmt.Errorf("the copy %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
	q, closeQ, err := openQueue(config.DBPath(environ))
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
	report() (server.QueueReport, error)
	act(action string, id uint64) error
}

func openQueue(dbPath string) (queueAdmin, func(), error) {
	if c, ok := server.DialControl(dbPath); ok {
		return socketQueue{c}, func() {}, nil
	}
	store, err := openExisting(dbPath)
	if err != nil {
		return nil, nil, err
	}
	return localQueue{store}, func() { store.Close() }, nil
}

type localQueue struct{ store *storage.Store }

func (l localQueue) report() (server.QueueReport, error) { return server.ReadQueue(l.store) }
func (l localQueue) act(action string, id uint64) error {
	return server.ActOnQueue(l.store, action, id)
}

type socketQueue struct{ c *server.Control }

func (s socketQueue) report() (server.QueueReport, error) { return s.c.Queue() }
func (s socketQueue) act(action string, id uint64) error  { return s.c.Act(action, id) }

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
