package route

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeChecker answers from a table and counts the questions; gate, when
// set, holds every answer until it is closed; asking, when set, hears of
// each question as it arrives.
type fakeChecker struct {
	mu      sync.Mutex
	asked   map[string]int // by jql
	matches map[string]bool
	err     error
	gate    chan struct{}
	asking  chan string
}

func (c *fakeChecker) MatchesJQL(ctx context.Context, key, jql string) (bool, error) {
	c.mu.Lock()
	c.asked[jql]++
	gate, err, asking := c.gate, c.err, c.asking
	c.mu.Unlock()
	if asking != nil {
		asking <- jql
	}
	if gate != nil {
		<-gate
	}
	return c.matches[jql], err
}

func (c *fakeChecker) count(jql string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked[jql]
}

var _ Checker = (*fakeChecker)(nil)

func newFake() *fakeChecker {
	return &fakeChecker{asked: map[string]int{}, matches: map[string]bool{"labels = x": true}}
}

// A burst of 500 events on one issue asks Jira once per JQL.
func TestJQLCacheBurst(t *testing.T) {
	ctx := context.Background()
	fake := newFake()
	fake.gate = make(chan struct{})
	cache := NewJQLCache(fake, time.Minute, nil)
	m := Match{Chat: -1, JQLs: []string{"priority = High", "labels = x"}}
	var started, done sync.WaitGroup
	results := make([]bool, 500)
	for i := range results {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			due, err := cache.Due(ctx, "10040", m)
			if err != nil {
				t.Error(err)
			}
			results[i] = due
		}()
	}
	started.Wait()
	close(fake.gate) // the first questions were held: the others joined them
	done.Wait()
	for i, due := range results {
		if !due {
			t.Fatalf("lookup %d not due", i)
		}
	}
	for _, jql := range m.JQLs {
		if n := fake.count(jql); n != 1 {
			t.Errorf("%q asked %d times, want once", jql, n)
		}
	}
	// And 500 more, one after another: still nothing new to ask.
	for range 500 {
		if due, _ := cache.Due(ctx, "10040", m); !due {
			t.Fatal("not due")
		}
	}
	if n := fake.count("labels = x"); n != 1 {
		t.Errorf("asked %d times after the burst", n)
	}
}

// Answers last the window; another issue is another question; errors are
// not remembered.
func TestJQLCacheExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { return now }
	fake := newFake()
	cache := NewJQLCache(fake, 10*time.Second, clock)
	ask := func(issue string) bool {
		ok, err := cache.Matches(ctx, issue, "labels = x")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	ask("1")
	now = now.Add(9 * time.Second)
	ask("1")
	if n := fake.count("labels = x"); n != 1 {
		t.Fatalf("asked %d times within the window", n)
	}
	ask("2")
	now = now.Add(time.Second)
	ask("1")
	if n := fake.count("labels = x"); n != 3 {
		t.Errorf("asked %d times, want 3 (issue 2, then issue 1 once expired)", n)
	}

	fake.err = errors.New("jira: search: 503")
	if _, err := cache.Matches(ctx, "3", "labels = x"); err == nil {
		t.Fatal("the error was lost")
	}
	fake.err = nil
	if !ask("3") || fake.count("labels = x") != 5 {
		t.Errorf("an error was remembered: asked %d times", fake.count("labels = x"))
	}
}

func TestDue(t *testing.T) {
	ctx := context.Background()
	fake := newFake()
	cache := NewJQLCache(fake, time.Minute, nil)
	if due, err := cache.Due(ctx, "1", Match{Always: true, JQLs: []string{"labels = x"}}); !due || err != nil || fake.count("labels = x") != 0 {
		t.Errorf("Always: %v, %v, asked %d", due, err, fake.count("labels = x"))
	}
	if due, err := cache.Due(ctx, "1", Match{JQLs: []string{"priority = High"}}); due || err != nil {
		t.Errorf("no JQL true: %v, %v", due, err)
	}
	fake.err = errors.New("down")
	if due, err := cache.Due(ctx, "2", Match{JQLs: []string{"status = Done"}}); due || err == nil {
		t.Errorf("Jira down: %v, %v; want the error", due, err)
	}
}

// A caller that gives up stops waiting for a question another asked.
func TestJQLCacheWaiterGivesUp(t *testing.T) {
	fake := newFake()
	fake.gate, fake.asking = make(chan struct{}), make(chan string, 1)
	cache := NewJQLCache(fake, time.Minute, nil)
	first := make(chan struct{})
	go func() {
		defer close(first)
		cache.Matches(context.Background(), "1", "labels = x")
	}()
	<-fake.asking // the first question is with the checker, held at the gate
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cache.Matches(ctx, "1", "labels = x"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	close(fake.gate)
	<-first
}
