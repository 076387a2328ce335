// Package telegram is jtbot's adapter for the Telegram Bot API, the peer of
// package jira. It owns both directions of the wire:
//
//   - inbound: the /webhook/telegram/ handler and the long poller, which
//     store every update in the durable queue before Telegram is answered;
//   - outbound: Client, the one way out. Every message, edit, callback
//     answer and file download leaves through it, so Telegram's rate limits,
//     retry_after, the HTML → plain-text fallback and the redaction of the
//     bot token are applied in one place. Its errors are *Error values that
//     carry their own verdict (Temporary, RetryAfter, ChatGone, Forbidden).
//
// The fake Bot API lives beside it in telegram/telegramtest. The package
// imports no behaviour: it knows nothing of Jira or of what a post means.
package telegram
