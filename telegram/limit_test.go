package telegram

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		sends []limiterSend
	}{
		{"one a second per chat", []limiterSend{{-1, 0, 0}, {-1, 500 * time.Millisecond, 500 * time.Millisecond}, {-1, time.Second, 0}}},
		{"other chats are free", []limiterSend{{-1, 0, 0}, {-2, 0, 0}, {5, 0, 0}}},
		{"twenty a minute in a group", append(everySecond(-1, 20), limiterSend{-1, 20 * time.Second, 40 * time.Second}, limiterSend{-1, 60 * time.Second, 0})},
		{"private chats have no minute limit", append(everySecond(7, 20), limiterSend{7, 20 * time.Second, 0})},
		{"thirty a second overall", append(manyChats(30), limiterSend{-999, 0, time.Second}, limiterSend{-999, time.Second, 0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l limiter
			for i, s := range tt.sends {
				if got := l.reserve(s.chat, t0.Add(s.at)); got != s.wait {
					t.Fatalf("send %d to %d at %s: wait %s, want %s", i, s.chat, s.at, got, s.wait)
				}
			}
		})
	}
	t.Run("retry_after pauses the chat", func(t *testing.T) {
		var l limiter
		l.pause(-1, t0.Add(5*time.Second))
		if got := l.reserve(-1, t0); got != 5*time.Second {
			t.Errorf("wait %s, want 5s", got)
		}
		if got := l.reserve(-1, t0.Add(5*time.Second)); got != 0 {
			t.Errorf("wait %s after the pause", got)
		}
	})
}

// limiterSend is one send in a limiter test, and the wait it should get.
type limiterSend struct {
	chat int64
	at   time.Duration
	wait time.Duration // what reserve answers
}

func everySecond(chat int64, n int) []limiterSend {
	var out []limiterSend
	for i := 0; i < n; i++ {
		out = append(out, limiterSend{chat, time.Duration(i) * time.Second, 0})
	}
	return out
}

func manyChats(n int) []limiterSend {
	var out []limiterSend
	for i := 0; i < n; i++ {
		out = append(out, limiterSend{int64(-100 - i), 0, 0})
	}
	return out
}
