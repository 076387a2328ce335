package bot

import (
	"github.com/jtbot/jtbot/storage"
)

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
