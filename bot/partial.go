package bot

import (
	"fmt"
	"time"

	"github.com/jtbot/jtbot/storage"
)

// rateWait asks the worker to keep the items queued for a while: a send
// would exceed Telegram's limits. It is not a failure.
type rateWait struct {
	chat  int64
	after time.Duration
}

func (e rateWait) Error() string {
	if e.chat == 0 {
		return fmt.Sprintf("telegram rate limit for a watcher: waiting %s", e.after.Round(time.Millisecond))
	}
	return fmt.Sprintf("telegram rate limit for chat %d: waiting %s", e.chat, e.after.Round(time.Millisecond))
}

// partialError reports that a handler finished some items of a batch
// before err stopped it: those are done, the others follow err's fate.
type partialError struct {
	done []uint64
	err  error
}

func (e partialError) Error() string { return e.err.Error() }
func (e partialError) Unwrap() error { return e.err }

// remaining returns the items of batch that are not done.
func (e partialError) remaining(batch []storage.Item) (done, rest []storage.Item) {
	finished := make(map[uint64]bool, len(e.done))
	for _, id := range e.done {
		finished[id] = true
	}
	for _, it := range batch {
		if finished[it.ID] {
			done = append(done, it)
		} else {
			rest = append(rest, it)
		}
	}
	return done, rest
}
