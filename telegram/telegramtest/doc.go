// Package telegramtest is an in-process fake of the Telegram Bot API, in the
// spirit of net/http/httptest.
//
// NewServer starts an HTTP server that speaks the real wire format: requests
// may carry JSON bodies (values as strings or as numbers/objects),
// url-encoded forms, multipart uploads or query-string parameters, and the
// answers are {"ok":true,"result":...} or {"ok":false,"error_code":N,
// "description":"..."} with the matching HTTP status. Point a real client
// (for example telebot's Settings.URL) at Server.URL.
//
// Tests drive the fake from the other side: Push feeds incoming updates (to a
// long-polling getUpdates or to a registered webhook), Sent and Calls show
// what the bot did, WaitFor blocks until a condition holds without sleeping,
// and FailNext/SetChatError inject the errors the real API returns.
//
// The package does not import testing, so demo programs can use it too.
package telegramtest
