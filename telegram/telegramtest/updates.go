package telegramtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// queuedUpdate is an update waiting for getUpdates or webhook delivery.
type queuedUpdate struct {
	id   int64
	kind string // e.g. "message", "callback_query"
	raw  json.RawMessage
}

// updateKinds lists update types in the order the API documents them.
var updateKinds = []string{
	"message", "edited_message", "channel_post", "edited_channel_post",
	"business_connection", "business_message", "edited_business_message",
	"deleted_business_messages", "message_reaction", "message_reaction_count",
	"inline_query", "chosen_inline_result", "callback_query", "shipping_query",
	"pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
	"my_chat_member", "chat_member", "chat_join_request", "chat_boost",
	"removed_chat_boost",
}

// Push queues an incoming update and returns its update_id. update may be
// json.RawMessage, []byte, a string of JSON, map[string]any or any value
// that marshals to a JSON object. A missing or zero update_id is assigned
// (monotonic, starting at 1). Messages inside the update are remembered so
// that replies to them resolve. Push panics if update is not a JSON object,
// since that is a bug in the test.
func (s *Server) Push(update any) int64 {
	fields := updateFields(update)

	s.mu.Lock()
	defer s.mu.Unlock()
	var id int64
	if raw, ok := fields["update_id"]; ok {
		_ = json.Unmarshal(raw, &id)
	}
	if id == 0 {
		id = s.nextUpdateID
	}
	if id >= s.nextUpdateID {
		s.nextUpdateID = id + 1
	}
	fields["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
	raw, err := json.Marshal(fields)
	if err != nil {
		panic("telegramtest: Push: " + err.Error())
	}

	s.learnUpdateLocked(fields)
	s.enqueueLocked(queuedUpdate{id: id, kind: updateKind(fields), raw: raw})
	s.notifyLocked()
	return id
}

func updateFields(update any) map[string]json.RawMessage {
	var raw []byte
	switch u := update.(type) {
	case json.RawMessage:
		raw = u
	case []byte:
		raw = u
	case string:
		raw = []byte(u)
	default:
		var err error
		if raw, err = json.Marshal(update); err != nil {
			panic("telegramtest: Push: " + err.Error())
		}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		panic(fmt.Sprintf("telegramtest: Push: update is not a JSON object: %s", raw))
	}
	return fields
}

func updateKind(fields map[string]json.RawMessage) string {
	for _, k := range updateKinds {
		if _, ok := fields[k]; ok {
			return k
		}
	}
	var keys []string
	for k := range fields {
		if k != "update_id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// enqueueLocked keeps the queue ordered by update_id, as the API delivers it.
func (s *Server) enqueueLocked(u queuedUpdate) {
	i := sort.Search(len(s.updates), func(i int) bool { return s.updates[i].id > u.id })
	s.updates = slices.Insert(s.updates, i, u)
}

// PendingUpdates returns how many pushed updates are neither confirmed by
// getUpdates nor delivered to the webhook.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// allowedLocked reports whether the allowed_updates setting lets u through.
// An empty setting lets everything through.
func (s *Server) allowedLocked(u queuedUpdate) bool {
	return len(s.allowed) == 0 || slices.Contains(s.allowed, u.kind)
}

// dropDisallowedLocked forgets updates of types the bot did not ask for:
// the real API never delivers them.
func (s *Server) dropDisallowedLocked() {
	s.updates = slices.DeleteFunc(s.updates, func(u queuedUpdate) bool { return !s.allowedLocked(u) })
}

// setAllowedLocked applies an allowed_updates parameter. Absent or "null"
// keeps the previous setting, like the real API.
func (s *Server) setAllowedLocked(r *request) {
	v := r.str("allowed_updates")
	if v == "" || v == "null" {
		return
	}
	var list []string
	if json.Unmarshal([]byte(v), &list) == nil {
		s.allowed = list
	}
}

// confirmLocked applies a getUpdates offset: updates below a positive
// offset are forgotten; a negative offset keeps only the last -offset.
func (s *Server) confirmLocked(offset int64) {
	before := len(s.updates)
	switch {
	case offset > 0:
		s.updates = slices.DeleteFunc(s.updates, func(u queuedUpdate) bool { return u.id < offset })
	case offset < 0 && int64(len(s.updates)) > -offset:
		s.updates = slices.Delete(s.updates, 0, len(s.updates)-int(-offset))
	}
	if len(s.updates) != before {
		s.notifyLocked()
	}
}

var (
	errWebhookActive = &apiError{code: http.StatusConflict,
		desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	errOtherPoll = &apiError{code: http.StatusConflict,
		desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
)

func (s *Server) getUpdates(r *request) (any, *apiError) {
	offset, _, _ := paramInt(r, "offset")
	limit, hasLimit, _ := paramInt(r, "limit")
	if !hasLimit || limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _, _ := paramInt(r, "timeout")
	deadline := time.Now().Add(time.Duration(max(timeout, 0)) * time.Second)

	s.mu.Lock()
	if s.hook != nil {
		s.mu.Unlock()
		return nil, errWebhookActive
	}
	s.pollGen++
	gen := s.pollGen
	s.setAllowedLocked(r)
	s.confirmLocked(offset)
	s.notifyLocked() // wakes an older poll so it can see it was superseded
	for {
		switch {
		case s.hook != nil:
			s.mu.Unlock()
			return nil, errWebhookActive
		case gen != s.pollGen:
			s.mu.Unlock()
			return nil, errOtherPoll
		}
		batch := s.batchLocked(int(limit))
		wait := time.Until(deadline)
		if len(batch) > 0 || wait <= 0 || s.closed {
			s.mu.Unlock()
			return batch, nil
		}
		ch := s.changed
		s.mu.Unlock()
		if !s.sleep(r, ch, wait) {
			return []json.RawMessage{}, nil
		}
		s.mu.Lock()
	}
}

// sleep waits for a state change or the poll timeout. It returns false when
// the client went away or the server is closing.
func (s *Server) sleep(r *request, changed <-chan struct{}, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-changed:
	case <-timer.C:
	case <-r.ctx.Done():
		return false
	case <-s.done:
		return false
	}
	return true
}

func (s *Server) batchLocked(limit int) []json.RawMessage {
	s.dropDisallowedLocked()
	batch := []json.RawMessage{}
	for _, u := range s.updates {
		if len(batch) == limit {
			break
		}
		batch = append(batch, u.raw)
	}
	return batch
}

// webhook is the registered setWebhook configuration.
type webhook struct {
	url            string
	secret         string
	maxConnections int
	ipAddress      string
	hasCustomCert  bool
	// client trusts the uploaded self-signed certificate, as Telegram does.
	client        *http.Client
	lastErrorDate int64
	lastErrorMsg  string
}

func validSecret(secret string) bool {
	if len(secret) == 0 || len(secret) > 256 {
		return false
	}
	for _, c := range []byte(secret) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// setWebhook accepts http:// URLs too (the real API demands https), so a
// local httptest server can receive the updates.
func (s *Server) setWebhook(r *request) (any, *apiError) {
	rawURL := r.str("url")
	if rawURL == "" {
		return s.deleteWebhook(r)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, badRequest("bad webhook: Failed to resolve host: Name or service not known")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	secret := r.str("secret_token")
	if secret != "" && !validSecret(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	maxConn, _, _ := paramInt(r, "max_connections")
	if maxConn <= 0 {
		maxConn = 40
	}
	cert, hasCert := r.uploads["certificate"]
	client := s.hookHTTP
	if hasCert {
		// Not PEM (some tests upload any bytes): deliver as without one.
		if pool := x509.NewCertPool(); pool.AppendCertsFromPEM(cert.Content) {
			client = &http.Client{Timeout: s.hookHTTP.Timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	description := "Webhook was set"
	if s.hook != nil && s.hook.url == rawURL {
		description = "Webhook is already set"
	}
	s.hook = &webhook{
		url:            rawURL,
		secret:         secret,
		maxConnections: int(min(maxConn, 100)),
		ipAddress:      r.str("ip_address"),
		hasCustomCert:  hasCert,
		client:         client,
	}
	s.setAllowedLocked(r)
	if paramBool(r, "drop_pending_updates") {
		s.updates = nil
	}
	s.notifyLocked()
	return withDescription{result: true, description: description}, nil
}

func (s *Server) deleteWebhook(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	description := "Webhook was deleted"
	if s.hook == nil {
		description = "Webhook is already deleted"
	}
	s.hook = nil
	if paramBool(r, "drop_pending_updates") {
		s.updates = nil
	}
	s.notifyLocked()
	return withDescription{result: true, description: description}, nil
}

func (s *Server) getWebhookInfo(*request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropDisallowedLocked()
	info := map[string]any{
		"url":                    "",
		"has_custom_certificate": false,
		"pending_update_count":   len(s.updates),
	}
	if h := s.hook; h != nil {
		info["url"] = h.url
		info["has_custom_certificate"] = h.hasCustomCert
		info["max_connections"] = h.maxConnections
		if h.ipAddress != "" {
			info["ip_address"] = h.ipAddress
		}
		if h.lastErrorDate != 0 {
			info["last_error_date"] = h.lastErrorDate
			info["last_error_message"] = h.lastErrorMsg
		}
		if len(s.allowed) > 0 {
			info["allowed_updates"] = s.allowed
		}
	}
	return info, nil
}

// Webhook backoff after a failed delivery: short, so tests stay fast.
const (
	firstBackoff = 20 * time.Millisecond
	maxBackoff   = 500 * time.Millisecond
)

// deliverLoop posts queued updates to the webhook one at a time, in order,
// retrying the head of the queue until the webhook answers 2xx.
func (s *Server) deliverLoop() {
	defer s.wg.Done()
	backoff := time.Duration(0)
	for {
		hook, u, wait, ok := s.nextDelivery()
		if !ok {
			return
		}
		if wait != nil {
			select {
			case <-wait:
			case <-s.done:
				return
			}
			continue
		}
		err := s.post(hook, u)
		if err == nil {
			s.delivered(u.id)
			backoff = 0
			continue
		}
		if s.ctx.Err() != nil {
			return
		}
		s.deliveryFailed(err.Error())
		backoff = min(max(backoff*2, firstBackoff), maxBackoff)
		timer := time.NewTimer(backoff)
		select {
		case <-timer.C:
		case <-s.done:
			timer.Stop()
			return
		}
	}
}

// nextDelivery returns the update to post, or a channel to wait on when
// there is no webhook or nothing pending. ok is false once the server closed.
func (s *Server) nextDelivery() (hook webhook, u queuedUpdate, wait <-chan struct{}, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return webhook{}, queuedUpdate{}, nil, false
	}
	if s.hook == nil {
		return webhook{}, queuedUpdate{}, s.changed, true
	}
	s.dropDisallowedLocked()
	if len(s.updates) == 0 {
		return webhook{}, queuedUpdate{}, s.changed, true
	}
	return *s.hook, s.updates[0], nil, true
}

func (s *Server) post(hook webhook, u queuedUpdate) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, hook.url, bytes.NewReader(u.raw))
	if err != nil {
		return errors.New("Failed to resolve host: Name or service not known")
	}
	req.Header.Set("Content-Type", "application/json")
	if hook.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hook.secret)
	}
	client := s.hookHTTP
	if hook.client != nil {
		client = hook.client
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return errors.New("Connection refused")
		}
		return errors.New("Connection timed out")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errors.New("Wrong response from the webhook: " + resp.Status)
	}
	return nil
}

func (s *Server) delivered(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = slices.DeleteFunc(s.updates, func(u queuedUpdate) bool { return u.id == id })
	s.notifyLocked()
}

func (s *Server) deliveryFailed(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook != nil {
		s.hook.lastErrorDate = time.Now().Unix()
		s.hook.lastErrorMsg = msg
	}
	s.notifyLocked()
}

// LastWebhookError returns the last_error_message getWebhookInfo would
// report, or "" when no webhook is set or no delivery has failed.
func (s *Server) LastWebhookError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook == nil {
		return ""
	}
	return s.hook.lastErrorMsg
}
