package jiratest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/jtbot/jtbot/jira/jiratest"
)

// receiver is a webhook endpoint that records what it gets and fails the
// first few requests on demand.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	fail int
}

type received struct {
	Header http.Header
	Query  string
	Body   []byte
}

func newReceiver(t *testing.T, fail int) *receiver {
	rc := &receiver{fail: fail}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.got = append(rc.got, received{r.Header.Clone(), r.URL.RawQuery, body})
		if rc.fail > 0 {
			rc.fail--
			w.WriteHeader(503)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// payload is the part of a webhook body the tests look at.
type payload struct {
	WebhookEvent string             `json:"webhookEvent"`
	TypeName     string             `json:"issue_event_type_name"`
	User         *models.UserScheme `json:"user"`
	Issue        *struct {
		ID, Key string
		Fields  struct{ Summary string }
	} `json:"issue"`
	Comment   *models.IssueCommentSchemeV2 `json:"comment"`
	Changelog *struct {
		Items []struct{ Field, FromString, ToString string }
	} `json:"changelog"`
	Attachment *models.IssueAttachmentScheme `json:"attachment"`
}

func decode(t *testing.T, body []byte) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload %s: %v", body, err)
	}
	return p
}

func waitDeliveries(t *testing.T, srv *jiratest.Server, n int) []jiratest.Delivery {
	t.Helper()
	if !srv.WaitFor(5*time.Second, func() bool { return len(srv.Deliveries()) >= n }) {
		t.Fatalf("got %d deliveries, want %d", len(srv.Deliveries()), n)
	}
	return srv.Deliveries()
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// registerHook registers a webhook the way jtbot does: through the admin
// REST API, which go-atlassian does not wrap.
func registerHook(t *testing.T, c *clientT, body map[string]any) map[string]any {
	t.Helper()
	req, err := c.NewRequest(ctx(t), http.MethodPost, "rest/webhooks/1.0/webhook", "", body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	res, err := c.Call(req, &out)
	if err != nil || res.Code != 201 {
		t.Fatalf("register webhook: %v %s", err, res.Bytes.String())
	}
	return out
}

func TestSignedCommentDelivery(t *testing.T) {
	srv := newSite(t, cloudOpts)
	c := newClient(t, srv, cloudOpts)
	rc := newReceiver(t, 0)
	hook := registerHook(t, c, map[string]any{
		"name": "jtbot", "url": rc.URL + "/webhook/jira?secret=q",
		"events":  []string{"jira:issue_created", "comment_created"},
		"filters": map[string]string{"issue-related-events-section": "project = PROJ"},
		"secret":  "s3cret", "excludeBody": false,
	})
	if hook["enabled"] != true || !strings.HasSuffix(hook["self"].(string), "/rest/webhooks/1.0/webhook/1") {
		t.Errorf("registered = %v", hook)
	}

	is, err := srv.As(alice).CreateIssue("PROJ", "Bug", "Broken", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.As(alice).Comment(is.Key, "hello from Jira"); err != nil {
		t.Fatal(err)
	}
	ds := waitDeliveries(t, srv, 2)
	got := rc.received()
	if len(got) != 2 || ds[0].Event != "jira:issue_created" || ds[1].Event != "comment_created" {
		t.Fatalf("deliveries = %+v", ds)
	}
	for _, r := range got {
		if r.Header.Get("X-Hub-Signature") != sign("s3cret", r.Body) {
			t.Errorf("signature %q does not verify", r.Header.Get("X-Hub-Signature"))
		}
		if r.Query != "secret=q" || r.Header.Get("X-Atlassian-Webhook-Identifier") == "" {
			t.Errorf("query %q, headers %v", r.Query, r.Header)
		}
	}
	if got[0].Header.Get("X-Atlassian-Webhook-Identifier") == got[1].Header.Get("X-Atlassian-Webhook-Identifier") {
		t.Error("two deliveries share an identifier")
	}
	p := decode(t, got[1].Body)
	if p.Issue == nil || p.Issue.Key != "PROJ-1" || p.Comment.Body != "hello from Jira" ||
		p.Comment.Author.AccountID != alice.AccountID {
		t.Errorf("comment payload = %s", got[1].Body)
	}
	created := decode(t, got[0].Body)
	if created.TypeName != "issue_created" || created.User.AccountID != alice.AccountID || created.Issue.Fields.Summary != "Broken" {
		t.Errorf("created payload = %s", got[0].Body)
	}
}

func TestServerCommentPayloadHasNoIssue(t *testing.T) {
	srv := newSite(t, jiratest.Options{Deployment: "Server"})
	rc := newReceiver(t, 0)
	srv.AddWebhook(jiratest.Webhook{Name: "dc", URL: rc.URL, Events: []string{"comment_updated"}})
	a := srv.As(alice)
	is, _ := a.CreateIssue("PROJ", "Task", "x", "")
	cm, _ := a.Comment(is.Key, "first")
	if err := a.EditComment(is.Key, cm.ID, "second"); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, srv, 1)
	body := rc.received()[0].Body
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw)
	if _, ok := raw["issue"]; ok {
		t.Errorf("Data Center comment payload has an issue: %s", body)
	}
	p := decode(t, body)
	if p.User == nil || p.User.Name != "alice" || p.User.AccountID != "" ||
		!strings.HasSuffix(p.Comment.Self, "/rest/api/2/issue/"+is.ID+"/comment/"+cm.ID) || p.Comment.Body != "second" {
		t.Errorf("payload = %s", body)
	}
}

func TestDeliveryRetries(t *testing.T) {
	srv := newSite(t, cloudOpts)
	rc := newReceiver(t, 2)
	srv.AddWebhook(jiratest.Webhook{Name: "flaky", URL: rc.URL, Events: []string{"jira:issue_created"}})
	if _, err := srv.As(bob).CreateIssue("PROJ", "Task", "x", ""); err != nil {
		t.Fatal(err)
	}
	d := waitDeliveries(t, srv, 1)[0]
	got := rc.received()
	if d.Attempts != 3 || d.Status != 200 || len(got) != 3 {
		t.Fatalf("delivery = %+v after %d posts", d, len(got))
	}
	for i, r := range got {
		if r.Header.Get("X-Atlassian-Webhook-Identifier") != d.ID {
			t.Errorf("attempt %d identifier %q, want %q", i, r.Header.Get("X-Atlassian-Webhook-Identifier"), d.ID)
		}
	}
	if got[2].Header.Get("X-Atlassian-Webhook-Retry") != "2" {
		t.Errorf("retry header = %q", got[2].Header.Get("X-Atlassian-Webhook-Retry"))
	}
}

func TestDeliveryGivesUp(t *testing.T) {
	srv := newSite(t, cloudOpts)
	rc := newReceiver(t, 100)
	srv.AddWebhook(jiratest.Webhook{Name: "down", URL: rc.URL, Events: []string{"jira:issue_created"}})
	if _, err := srv.As(bob).CreateIssue("PROJ", "Task", "x", ""); err != nil {
		t.Fatal(err)
	}
	d := waitDeliveries(t, srv, 1)[0]
	if d.Attempts != 6 || d.Status != 503 {
		t.Errorf("delivery = %+v", d)
	}
}

func TestWebhookFilterAndEvents(t *testing.T) {
	srv := newSite(t, cloudOpts)
	srv.AddProject("OTHER", "Other")
	rc := newReceiver(t, 0)
	srv.AddWebhook(jiratest.Webhook{Name: "other", URL: rc.URL + "/other", JQL: "project = OTHER",
		Events: []string{"jira:issue_created"}})
	srv.AddWebhook(jiratest.Webhook{Name: "all", URL: rc.URL + "/all",
		Events: []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
			"comment_created", "comment_updated", "comment_deleted", "attachment_created"}})

	a := srv.As(alice)
	is, _ := a.CreateIssue("PROJ", "Task", "x", "")
	steps := []struct {
		name string
		do   func() error
		want []string // webhookEvent/issue_event_type_name per delivery
	}{
		{"create", func() error { return nil }, []string{"jira:issue_created/issue_created"}},
		{"comment", func() error { _, err := a.Comment(is.Key, "c"); return err },
			[]string{"comment_created/", "jira:issue_updated/issue_commented"}},
		{"transition", func() error { return a.Transition(is.Key, "In Progress") },
			[]string{"jira:issue_updated/issue_generic"}},
		{"assign", func() error { return a.Assign(is.Key, &bob) },
			[]string{"jira:issue_updated/issue_assigned"}},
		{"attach", func() error { _, err := a.Attach(is.Key, "a.png", []byte("\x89PNG\r\n\x1a\n")); return err },
			[]string{"attachment_created/", "jira:issue_updated/issue_updated"}},
		{"delete", func() error { return a.DeleteIssue(is.Key) }, []string{"jira:issue_deleted/"}},
	}
	seen := 0
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			ds := waitDeliveries(t, srv, seen+len(st.want))
			var got []string
			for _, d := range ds[seen:] {
				p := decode(t, d.Body)
				got = append(got, p.WebhookEvent+"/"+p.TypeName)
				if d.WebhookName != "all" {
					t.Errorf("filtered webhook got %s", d.Event)
				}
			}
			seen = len(ds)
			if strings.Join(got, " ") != strings.Join(st.want, " ") {
				t.Errorf("events = %v, want %v", got, st.want)
			}
		})
	}
}

func TestChangelogOfTransition(t *testing.T) {
	srv := newSite(t, cloudOpts)
	rc := newReceiver(t, 0)
	srv.AddWebhook(jiratest.Webhook{Name: "h", URL: rc.URL, Events: []string{"jira:issue_updated"}})
	a := srv.As(alice)
	is, _ := a.CreateIssue("PROJ", "Task", "x", "")
	if err := a.Transition(is.Key, "Done"); err != nil {
		t.Fatal(err)
	}
	p := decode(t, waitDeliveries(t, srv, 1)[0].Body)
	var items []string
	for _, it := range p.Changelog.Items {
		items = append(items, it.Field+":"+it.FromString+">"+it.ToString)
	}
	if strings.Join(items, " ") != "status:To Do>Done resolution:>Done" {
		t.Errorf("changelog = %v", items)
	}
}

func TestAPIChangesFireWebhooksAsMe(t *testing.T) {
	srv := newSite(t, cloudOpts)
	c := newClient(t, srv, cloudOpts)
	rc := newReceiver(t, 0)
	srv.AddWebhook(jiratest.Webhook{Name: "h", URL: rc.URL, Events: []string{"comment_created"}})
	must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), newIssue("x"), nil))
	must[*models.IssueCommentSchemeV2](t)(c.Issue.Comment.Add(ctx(t), "PROJ-1", &models.CommentPayloadSchemeV2{Body: "from the bot"}, nil))
	p := decode(t, waitDeliveries(t, srv, 1)[0].Body)
	if p.Comment.Author.AccountID != "bot-account" {
		t.Errorf("comment author = %+v", p.Comment.Author)
	}
}

func TestWebhookAdminAPI(t *testing.T) {
	srv := newSite(t, cloudOpts)
	c := newClient(t, srv, cloudOpts)
	registerHook(t, c, map[string]any{"name": "a", "url": "https://example.com/hook", "events": []string{"comment_created"}})

	call := func(method, path string, body any, out any) int {
		req, err := c.NewRequest(ctx(t), method, path, "", body)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := c.Call(req, out)
		return res.Code
	}
	var list []map[string]any
	if code := call(http.MethodGet, "rest/webhooks/1.0/webhook", nil, &list); code != 200 || len(list) != 1 {
		t.Fatalf("list = %d %v", code, list)
	}
	var updated map[string]any
	if code := call(http.MethodPut, "rest/webhooks/1.0/webhook/1", map[string]any{"enabled": false}, &updated); code != 200 || updated["enabled"] != false {
		t.Errorf("update = %d %v", code, updated)
	}
	if srv.Webhooks()[0].Disabled != true {
		t.Error("webhook still enabled")
	}
	if code := call(http.MethodPost, "rest/webhooks/1.0/webhook", map[string]any{"name": "bad", "url": "not a url"}, nil); code != 400 {
		t.Errorf("invalid url = %d", code)
	}
	if code := call(http.MethodDelete, "rest/webhooks/1.0/webhook/1", nil, nil); code != 204 {
		t.Errorf("delete = %d", code)
	}
	if code := call(http.MethodGet, "rest/webhooks/1.0/webhook/1", nil, nil); code != 404 {
		t.Errorf("get deleted = %d", code)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	srv := jiratest.NewServer(jiratest.Options{})
	srv.Close()
	srv.Close()
}
