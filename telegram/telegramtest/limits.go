package telegramtest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Telegram's sending limits, from the Bot API FAQ ("My bot is hitting
// limits, how do I avoid this?", core.telegram.org/bots/faq): about one
// message a second in a chat, twenty a minute in a group, thirty a second
// overall. The real server answers 429 with retry_after past them, after
// tolerating short bursts; the fake only counts, so that a test can prove
// jtbot never goes past them. Windows are a little shorter than the
// published ones: two sends that jtbot spaced a second apart may arrive a
// few milliseconds closer.
const (
	limitChatGap     = 900 * time.Millisecond
	limitGroupWindow = 58 * time.Second
	limitGroupMax    = 20
	limitAllWindow   = 950 * time.Millisecond
	limitAllMax      = 30
)

// sendMethods are the calls that put a message in a chat (edits count too).
var sendMethods = map[string]bool{
	"sendMessage": true, "editMessageText": true, "sendPhoto": true, "sendDocument": true,
	"copyMessage": true, "forwardMessage": true,
}

// LimitViolations lists every place where the bot went past Telegram's
// sending limits, as counted from the calls the fake received.
func (s *Server) LimitViolations() []string {
	var sends []Call
	for _, c := range s.Calls() {
		if sendMethods[c.Method] {
			sends = append(sends, c)
		}
	}
	sort.SliceStable(sends, func(i, j int) bool { return sends[i].At.Before(sends[j].At) })
	var out []string
	last := map[string]time.Time{}
	perChat := map[string][]time.Time{}
	for i, c := range sends {
		chat := c.Params["chat_id"]
		if prev, ok := last[chat]; ok && c.At.Sub(prev) < limitChatGap {
			out = append(out, fmt.Sprintf("chat %s: two messages %s apart", chat, c.At.Sub(prev).Round(time.Millisecond)))
		}
		last[chat] = c.At
		if strings.HasPrefix(chat, "-") {
			times := append(perChat[chat], c.At)
			perChat[chat] = times
			if n := len(times); n > limitGroupMax && c.At.Sub(times[n-limitGroupMax-1]) < limitGroupWindow {
				out = append(out, fmt.Sprintf("group %s: %d messages within a minute", chat, limitGroupMax+1))
			}
		}
		if i >= limitAllMax && c.At.Sub(sends[i-limitAllMax].At) < limitAllWindow {
			out = append(out, fmt.Sprintf("%d messages within a second overall", limitAllMax+1))
		}
	}
	return out
}
