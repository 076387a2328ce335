package telegramtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is a fake Telegram Bot API server. Create it with NewServer.
type Server struct {
	// URL is the base URL of the fake API, e.g. "http://127.0.0.1:1234".
	// Use it as telebot's Settings.URL.
	URL string

	token string
	me    User
	ts    *httptest.Server

	// ctx is cancelled by Close so in-flight webhook posts stop at once.
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	hookHTTP  *http.Client

	mu      sync.Mutex
	closed  bool
	changed chan struct{} // closed and replaced on every state change

	calls      []Call
	faults     []*fault
	chatErrors map[int64]*apiError

	updates      []queuedUpdate
	nextUpdateID int64
	allowed      []string // allowed_updates, shared by getUpdates and webhooks like the real API
	pollGen      int      // bumped by each getUpdates so an older poll is terminated
	hook         *webhook

	messages  map[msgKey]*storedMessage
	lastMsgID map[int64]int
	sent      []SentMessage

	chats     map[int64]Chat
	users     map[int64]User
	members   map[memberKey]string
	linked    map[int64]int64 // channel ⇄ discussion group
	files     map[string]*storedFile
	fileSeq   int
	callbacks map[string]bool // callback query id -> answered
	cbSeq     int
	commands  map[string]json.RawMessage
}

// NewServer starts a fake API server that accepts requests for token.
// Requests with another token get 401 Unauthorized, like the real API.
func NewServer(token string) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		token: token,
		me: User{
			ID:        1000001,
			IsBot:     true,
			FirstName: "jtbot",
			Username:  "jtbot_test_bot",
		},
		ctx:          ctx,
		cancel:       cancel,
		done:         make(chan struct{}),
		hookHTTP:     &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}},
		changed:      make(chan struct{}),
		chatErrors:   map[int64]*apiError{},
		nextUpdateID: 1,
		messages:     map[msgKey]*storedMessage{},
		lastMsgID:    map[int64]int{},
		chats:        map[int64]Chat{},
		users:        map[int64]User{},
		members:      map[memberKey]string{},
		linked:       map[int64]int64{},
		files:        map[string]*storedFile{},
		callbacks:    map[string]bool{},
		commands:     map[string]json.RawMessage{},
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	s.wg.Add(1)
	go s.deliverLoop()
	return s
}

// Close stops the server: pending long polls return, webhook delivery stops,
// and the HTTP server shuts down. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		s.notifyLocked()
		s.mu.Unlock()

		s.cancel()
		s.wg.Wait()
		if t, ok := s.hookHTTP.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
		// Long polls watch s.done, so this does not block on them.
		s.ts.Close()
	})
}

// Token returns the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// Bot returns the bot's own identity, as getMe reports it.
func (s *Server) Bot() User { return s.me }

// notifyLocked wakes everyone waiting for a state change. Callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Changed returns a channel that is closed at the next state change (a
// request, a push, a delivery...). After Close it is always closed.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.done
	}
	return s.changed
}

// WaitFor blocks until cond returns true or timeout passes, re-evaluating
// cond after every state change. It reports the last value of cond.
// cond should only read Server state (Sent, Calls, PendingUpdates...):
// an API request made from cond is itself a state change and would make
// WaitFor spin until the condition holds.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		ch := s.Changed()
		if cond() {
			return true
		}
		select {
		case <-ch:
			if s.isClosed() {
				return cond()
			}
		case <-timer.C:
			return cond()
		}
	}
}

// WaitSent waits until the bot has sent at least n messages and returns them.
func (s *Server) WaitSent(timeout time.Duration, n int) ([]SentMessage, bool) {
	var sent []SentMessage
	ok := s.WaitFor(timeout, func() bool {
		sent = s.Sent()
		return len(sent) >= n
	})
	return sent, ok
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Call is one API request the server received.
type Call struct {
	Method string // canonical spelling when the method is known, e.g. "sendMessage"
	// Params holds every parameter as a string. JSON values that were not
	// strings (numbers, objects, booleans) are kept as compact JSON text.
	Params map[string]string
	// Uploads holds multipart file parts by field name.
	Uploads map[string]Upload
	At      time.Time
}

// Upload is a file sent as a multipart/form-data part.
type Upload struct {
	FileName string
	Content  []byte
}

// Calls returns every request received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount returns how many times method was called (case-insensitive).
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.EqualFold(c.Method, method) {
			n++
		}
	}
	return n
}

func (s *Server) recordLocked(method string, params map[string]string, uploads map[string]Upload) {
	s.calls = append(s.calls, Call{Method: method, Params: params, Uploads: uploads, At: time.Now()})
	s.notifyLocked()
}

// serveHTTP routes API calls and file downloads.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case strings.HasPrefix(path, "/file/bot"):
		s.serveFile(w, strings.TrimPrefix(path, "/file/bot"))
	case strings.HasPrefix(path, "/bot"):
		s.serveMethod(w, r, strings.TrimPrefix(path, "/bot"))
	default:
		writeError(w, errNotFound)
	}
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, rest string) {
	token, name, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeError(w, errUnauthorized)
		return
	}
	m, known := lookupMethod(name)
	if known {
		name = m.name
	}
	params, uploads, err := readParams(r)
	if err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}

	s.mu.Lock()
	s.recordLocked(name, params, uploads)
	var f *apiError
	if known {
		f = s.takeFaultLocked(name)
	}
	s.mu.Unlock()

	if !known {
		writeError(w, errNotFound)
		return
	}
	if f != nil {
		writeError(w, f)
		return
	}
	req := &request{ctx: r.Context(), params: params, uploads: uploads}
	result, apiErr := m.fn(s, req)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	writeResult(w, result)
}

// request is one decoded API call as seen by a method handler.
type request struct {
	ctx     context.Context
	params  map[string]string
	uploads map[string]Upload
}

func (r *request) str(name string) string { return r.params[name] }

type method struct {
	name string
	fn   func(*Server, *request) (any, *apiError)
}

// methods is keyed by lower-case name: the real API ignores method case.
var methods = map[string]method{}

func init() {
	for _, m := range []method{
		{"getMe", (*Server).getMe},
		{"getUpdates", (*Server).getUpdates},
		{"setWebhook", (*Server).setWebhook},
		{"deleteWebhook", (*Server).deleteWebhook},
		{"getWebhookInfo", (*Server).getWebhookInfo},
		{"sendMessage", (*Server).sendMessage},
		{"editMessageText", (*Server).editMessageText},
		{"editMessageCaption", (*Server).editMessageCaption},
		{"editMessageReplyMarkup", (*Server).editMessageReplyMarkup},
		{"deleteMessage", (*Server).deleteMessage},
		{"sendPhoto", sendMedia("photo")},
		{"sendDocument", sendMedia("document")},
		{"sendVideo", sendMedia("video")},
		{"sendAudio", sendMedia("audio")},
		{"sendAnimation", sendMedia("animation")},
		{"sendVoice", sendMedia("voice")},
		{"sendChatAction", (*Server).sendChatAction},
		{"getFile", (*Server).getFile},
		{"answerCallbackQuery", (*Server).answerCallbackQuery},
		{"setMyCommands", (*Server).setMyCommands},
		{"getMyCommands", (*Server).getMyCommands},
		{"deleteMyCommands", (*Server).deleteMyCommands},
		{"getChat", (*Server).getChat},
		{"getChatMember", (*Server).getChatMember},
	} {
		methods[strings.ToLower(m.name)] = m
	}
}

func lookupMethod(name string) (method, bool) {
	m, ok := methods[strings.ToLower(name)]
	return m, ok
}

func (s *Server) getMe(*request) (any, *apiError) {
	return map[string]any{
		"id":                          s.me.ID,
		"is_bot":                      true,
		"first_name":                  s.me.FirstName,
		"username":                    s.me.Username,
		"can_join_groups":             true,
		"can_read_all_group_messages": false,
		"supports_inline_queries":     false,
		"can_connect_to_business":     false,
		"has_main_web_app":            false,
	}, nil
}
