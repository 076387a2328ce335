package jiratest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/jtbot/jtbot/jira/jiratest"
)

var cloudOpts = jiratest.Options{User: "bot@example.com", Token: "api-token"}

// TestCloudIssueLifecycle drives every issue endpoint jtbot uses with the
// real client, in the order a bridge would.
func TestCloudIssueLifecycle(t *testing.T) {
	srv := newSite(t, cloudOpts)
	c := newClient(t, srv, cloudOpts)

	info := must[*models.ServerInformationScheme](t)(c.Server.Info(ctx(t)))
	if info.DeploymentType != "Cloud" || info.BaseURL != srv.URL {
		t.Errorf("serverInfo = %+v", info)
	}
	me := must[*models.UserScheme](t)(c.MySelf.Details(ctx(t), nil))
	if me.AccountID != "bot-account" || me.DisplayName != "jtbot" {
		t.Errorf("myself = %+v", me)
	}
	proj := must[*models.ProjectScheme](t)(c.Project.Get(ctx(t), "PROJ", nil))
	if len(proj.IssueTypes) != 3 || proj.IssueTypes[0].Name != "Task" {
		t.Errorf("project issue types = %+v", proj.IssueTypes)
	}

	payload := newIssue("Printer on fire")
	payload.Fields.Description = "Third floor"
	payload.Fields.Labels = []string{"telegram"}
	created := must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), payload, nil))
	if created.Key != "PROJ-1" || created.ID != "10001" || !strings.HasSuffix(created.Self, "/rest/api/2/issue/10001") {
		t.Fatalf("created = %+v", created)
	}

	got := must[*models.IssueSchemeV2](t)(c.Issue.Get(ctx(t), "PROJ-1", nil, []string{"transitions"}))
	f := got.Fields
	if f.Summary != "Printer on fire" || f.Description != "Third floor" || f.Status.Name != "To Do" ||
		f.IssueType.Name != "Task" || f.Project.Key != "PROJ" || f.Reporter.AccountID != "bot-account" ||
		f.Priority.Name != "Medium" || len(f.Labels) != 1 || f.Created == nil {
		t.Errorf("issue fields = %+v", f)
	}
	if len(got.Transitions) != 2 {
		t.Errorf("transitions = %d, want 2", len(got.Transitions))
	}

	t.Run("comments", func(t *testing.T) { commentFlow(t, c) })
	t.Run("attachments", func(t *testing.T) { attachmentFlow(t, c, srv) })
	t.Run("transitions", func(t *testing.T) { transitionFlow(t, c, srv) })
	t.Run("assign", func(t *testing.T) { assignFlow(t, c, srv) })
	t.Run("properties", func(t *testing.T) { propertyFlow(t, c) })
	t.Run("watchers", func(t *testing.T) { watcherFlow(t, c) })
	t.Run("update", func(t *testing.T) { updateFlow(t, c, srv) })

	users := must[[]*models.UserScheme](t)(c.User.Search.Do(ctx(t), "", "ali", 0, 50))
	if len(users) != 1 || users[0].AccountID != alice.AccountID {
		t.Errorf("user search = %+v", users)
	}

	ok(t)(c.Issue.Delete(ctx(t), "PROJ-1", false))
	_, res, err := c.Issue.Get(ctx(t), "PROJ-1", nil, nil)
	code, e := jiraError(t, res, err)
	if code != 404 || e.ErrorMessages[0] != "Issue does not exist or you do not have permission to see it." {
		t.Errorf("get deleted = %d %+v", code, e)
	}
}

func commentFlow(t *testing.T, c *clientT) {
	added := must[*models.IssueCommentSchemeV2](t)(c.Issue.Comment.Add(ctx(t), "PROJ-1",
		&models.CommentPayloadSchemeV2{Body: "on it"}, nil))
	if added.Body != "on it" || added.Author.AccountID != "bot-account" ||
		!strings.HasSuffix(added.Self, "/rest/api/2/issue/10001/comment/"+added.ID) {
		t.Errorf("added = %+v", added)
	}
	updated := must[*models.IssueCommentSchemeV2](t)(c.Issue.Comment.Update(ctx(t), "PROJ-1", added.ID,
		&models.CommentPayloadSchemeV2{Body: "done soon"}, nil))
	if updated.Body != "done soon" {
		t.Errorf("updated = %+v", updated)
	}
	page := must[*models.IssueCommentPageSchemeV2](t)(c.Issue.Comment.Gets(ctx(t), "PROJ-1", "", nil, 0, 50))
	if page.Total != 1 || page.Comments[0].Body != "done soon" {
		t.Errorf("comments = %+v", page)
	}
	ok(t)(c.Issue.Comment.Delete(ctx(t), "PROJ-1", added.ID))
	_, res, err := c.Issue.Comment.Get(ctx(t), "PROJ-1", added.ID)
	if code, _ := jiraError(t, res, err); code != 404 {
		t.Errorf("get deleted comment = %d", code)
	}
}

func attachmentFlow(t *testing.T, c *clientT, srv *jiratest.Server) {
	content := []byte("hello, file")
	list := must[[]*models.IssueAttachmentScheme](t)(c.Issue.Attachment.Add(ctx(t), "PROJ-1", "note.txt", bytes.NewReader(content)))
	if len(list) != 1 || list[0].Filename != "note.txt" || list[0].Size != len(content) || list[0].MimeType != "text/plain" {
		t.Fatalf("attachments = %+v", list[0])
	}
	req, _ := http.NewRequest(http.MethodGet, list[0].Content, nil)
	req.SetBasicAuth(cloudOpts.User, cloudOpts.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, content) {
		t.Errorf("download = %d %q", resp.StatusCode, body)
	}
	is, _ := srv.Issue("PROJ-1")
	if len(is.Attachments) != 1 || !bytes.Equal(is.Attachments[0].Content, content) {
		t.Errorf("stored attachments = %+v", is.Attachments)
	}
}

func transitionFlow(t *testing.T, c *clientT, srv *jiratest.Server) {
	tr := must[*models.IssueTransitionsScheme](t)(c.Issue.Transitions(ctx(t), "PROJ-1"))
	var ids []string
	for _, x := range tr.Transitions {
		ids = append(ids, x.ID+"="+x.To.Name)
	}
	if strings.Join(ids, ",") != "21=In Progress,31=Done" {
		t.Errorf("transitions = %v", ids)
	}
	ok(t)(c.Issue.Move(ctx(t), "PROJ-1", "31", nil))
	is, _ := srv.Issue("PROJ-1")
	if is.Status != "Done" || is.Resolution != "Done" {
		t.Errorf("after Done: status %q resolution %q", is.Status, is.Resolution)
	}
	res, err := c.Issue.Move(ctx(t), "PROJ-1", "99", nil)
	if code, e := jiraError(t, res, err); code != 400 || !strings.Contains(e.ErrorMessages[0], "'99'") {
		t.Errorf("unknown transition = %d %+v", code, e)
	}
	ok(t)(c.Issue.Move(ctx(t), "PROJ-1", "11", nil))
	if is, _ := srv.Issue("PROJ-1"); is.Resolution != "" {
		t.Errorf("reopened issue keeps resolution %q", is.Resolution)
	}
}

func assignFlow(t *testing.T, c *clientT, srv *jiratest.Server) {
	ok(t)(c.Issue.Assign(ctx(t), "PROJ-1", alice.AccountID))
	if is, _ := srv.Issue("PROJ-1"); is.Assignee == nil || is.Assignee.AccountID != alice.AccountID {
		t.Errorf("assignee = %+v", is.Assignee)
	}
	res, err := c.Issue.Assign(ctx(t), "PROJ-1", "nobody")
	if code, e := jiraError(t, res, err); code != 400 || e.Errors["assignee"] == "" {
		t.Errorf("unknown assignee = %d %+v", code, e)
	}
	ok(t)(c.Issue.Assign(ctx(t), "PROJ-1", "-1"))
	if is, _ := srv.Issue("PROJ-1"); is.Assignee != nil {
		t.Errorf("assignee after -1 = %+v", is.Assignee)
	}
}

func propertyFlow(t *testing.T, c *clientT) {
	ok(t)(c.Issue.Property.Set(ctx(t), "PROJ-1", "jtbot", map[string]any{"chat": "42"}))
	prop := must[*models.EntityPropertyScheme](t)(c.Issue.Property.Get(ctx(t), "PROJ-1", "jtbot"))
	if v, _ := prop.Value.(map[string]any); v["chat"] != "42" {
		t.Errorf("property = %+v", prop)
	}
	keys := must[*models.PropertyPageScheme](t)(c.Issue.Property.Gets(ctx(t), "PROJ-1"))
	if len(keys.Keys) != 1 || keys.Keys[0].Key != "jtbot" {
		t.Errorf("keys = %+v", keys.Keys)
	}
	ok(t)(c.Issue.Property.Delete(ctx(t), "PROJ-1", "jtbot"))
	_, res, err := c.Issue.Property.Get(ctx(t), "PROJ-1", "jtbot")
	if code, _ := jiraError(t, res, err); code != 404 {
		t.Errorf("deleted property = %d", code)
	}
}

func watcherFlow(t *testing.T, c *clientT) {
	ok(t)(c.Issue.Watcher.Add(ctx(t), "PROJ-1", alice.AccountID))
	w := must[*models.IssueWatcherScheme](t)(c.Issue.Watcher.Gets(ctx(t), "PROJ-1"))
	if w.WatchCount != 2 || !w.IsWatching { // the reporter watches too
		t.Errorf("watchers = %+v", w)
	}
	ok(t)(c.Issue.Watcher.Delete(ctx(t), "PROJ-1", alice.AccountID))
	w = must[*models.IssueWatcherScheme](t)(c.Issue.Watcher.Gets(ctx(t), "PROJ-1"))
	if w.WatchCount != 1 {
		t.Errorf("watchers after delete = %d", w.WatchCount)
	}
}

func updateFlow(t *testing.T, c *clientT, srv *jiratest.Server) {
	ops := &models.UpdateOperations{}
	if err := ops.AddArrayOperation("labels", map[string]string{"urgent": "add", "telegram": "remove"}); err != nil {
		t.Fatal(err)
	}
	payload := &models.IssueSchemeV2{Fields: &models.IssueFieldsSchemeV2{Summary: "Printer still on fire"}}
	ok(t)(c.Issue.Update(ctx(t), "PROJ-1", false, payload, nil, ops))
	is, _ := srv.Issue("PROJ-1")
	if is.Summary != "Printer still on fire" || strings.Join(is.Labels, ",") != "urgent" {
		t.Errorf("after update: %q %v", is.Summary, is.Labels)
	}
}

// TestServerDeployment: Data Center flavour under a context path with a
// personal access token.
func TestServerDeployment(t *testing.T) {
	opts := jiratest.Options{Token: "pat", Deployment: "Server", ContextPath: "/jira"}
	srv := newSite(t, opts)
	c := newClient(t, srv, opts)
	if !strings.HasSuffix(srv.URL, "/jira") {
		t.Fatalf("URL %q lacks the context path", srv.URL)
	}

	info := must[*models.ServerInformationScheme](t)(c.Server.Info(ctx(t)))
	if info.DeploymentType != "Server" {
		t.Errorf("deploymentType = %q", info.DeploymentType)
	}
	me := must[*models.UserScheme](t)(c.MySelf.Details(ctx(t), nil))
	if me.Name != "jtbot" || me.AccountID != "" {
		t.Errorf("myself = %+v", me)
	}
	must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), newIssue("first"), nil))
	must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), newIssue("second"), nil))

	// go-atlassian's Assign uses an absolute path and so misses the
	// context path: real Data Center answers 404 too.
	res, err := c.Issue.Assign(ctx(t), "PROJ-1", "alice")
	if !errors.Is(err, models.ErrNotFound) || res.Code != 404 {
		t.Errorf("Assign under a context path = %v", err)
	}
	req, err := c.NewRequest(ctx(t), http.MethodPut, "rest/api/2/issue/PROJ-1/assignee", "", map[string]string{"name": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ok(t)(c.Call(req, nil))
	if is, _ := srv.Issue("PROJ-1"); is.Assignee == nil || is.Assignee.Name != "alice" {
		t.Errorf("assignee = %+v", is.Assignee)
	}

	page := must[*models.IssueSearchSchemeV2](t)(c.Issue.Search.Post(ctx(t),
		"project = PROJ AND assignee = alice", []string{"summary", "assignee"}, nil, 0, 10, ""))
	if page.Total != 1 || page.Issues[0].Key != "PROJ-1" || page.Issues[0].Fields.Assignee.Name != "alice" {
		t.Errorf("search = %+v", page)
	}
	page = must[*models.IssueSearchSchemeV2](t)(c.Issue.Search.Get(ctx(t),
		"project = PROJ ORDER BY created ASC", nil, nil, 1, 1, ""))
	if page.Total != 2 || len(page.Issues) != 1 || page.Issues[0].Key != "PROJ-2" {
		t.Errorf("second page = total %d %+v", page.Total, page.Issues)
	}
	_, res, err = c.Issue.Search.SearchJQL(ctx(t), "project = PROJ", nil, nil, 10, "")
	if err == nil || res.Code != 404 {
		t.Errorf("search/jql on Data Center = %v", err)
	}
	// Data Center searches users by ?username=, which go-atlassian lacks.
	req, err = c.NewRequest(ctx(t), http.MethodGet, "rest/api/2/user/search?username=ali", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var users []*models.UserScheme
	ok(t)(c.Call(req, &users))
	if len(users) != 1 || users[0].Name != "alice" || users[0].Key != "alice" {
		t.Errorf("user search = %+v", users)
	}
}

func TestCloudSearch(t *testing.T) {
	srv := newSite(t, cloudOpts)
	c := newClient(t, srv, cloudOpts)
	for _, s := range []string{"one", "two", "three"} {
		must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), newIssue(s), nil))
	}

	var keys []string
	token := ""
	for pages := 0; pages < 5; pages++ {
		page := must[*models.IssueSearchJQLSchemeV2](t)(c.Issue.Search.SearchJQL(ctx(t),
			"project = PROJ ORDER BY created ASC", []string{"summary"}, nil, 2, token))
		for _, is := range page.Issues {
			keys = append(keys, is.Key+":"+is.Fields.Summary)
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if strings.Join(keys, ",") != "PROJ-1:one,PROJ-2:two,PROJ-3:three" {
		t.Errorf("paged keys = %v", keys)
	}

	page := must[*models.IssueSearchJQLSchemeV2](t)(c.Issue.Search.SearchJQL(ctx(t), "key = PROJ-2", nil, nil, 0, ""))
	if len(page.Issues) != 1 || page.Issues[0].ID != "10002" || page.Issues[0].Fields != nil {
		t.Errorf("ids-only search = %+v", page.Issues)
	}

	// Properties set at creation, as jtbot stamps its issues, are searchable.
	req, err := c.NewRequest(ctx(t), http.MethodPost, "rest/api/2/issue", "", map[string]any{
		"fields":     map[string]any{"project": map[string]string{"key": "PROJ"}, "issuetype": map[string]string{"name": "Bug"}, "summary": "stamped"},
		"properties": []map[string]any{{"key": "jtbot", "value": map[string]string{"chat": "42"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ok(t)(c.Call(req, nil))
	page = must[*models.IssueSearchJQLSchemeV2](t)(c.Issue.Search.SearchJQL(ctx(t),
		`issue.property[jtbot].chat = "42"`, []string{"summary"}, nil, 0, ""))
	if len(page.Issues) != 1 || page.Issues[0].Key != "PROJ-4" {
		t.Errorf("property search = %+v", page.Issues)
	}

	_, res, err := c.Issue.Search.Get(ctx(t), "project = PROJ", nil, nil, 0, 50, "")
	if code, e := jiraError(t, res, err); code != 410 || !strings.Contains(e.ErrorMessages[0], "/search/jql") {
		t.Errorf("legacy search on Cloud = %d %+v", code, e)
	}
	_, res, err = c.Issue.Search.SearchJQL(ctx(t), "ORDER BY created", nil, nil, 0, "")
	if code, _ := jiraError(t, res, err); code != 400 {
		t.Errorf("unbounded search = %d", code)
	}
	_, res, err = c.Issue.Search.SearchJQL(ctx(t), "project = NOPE", nil, nil, 0, "")
	if _, e := jiraError(t, res, err); e.ErrorMessages[0] != "The value 'NOPE' does not exist for the field 'project'." {
		t.Errorf("unknown project = %+v", e)
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name  string
		site  jiratest.Options
		login jiratest.Options
		want  int
	}{
		{"basic ok", cloudOpts, cloudOpts, 200},
		{"basic wrong token", cloudOpts, jiratest.Options{User: cloudOpts.User, Token: "nope"}, 401},
		{"basic missing", cloudOpts, jiratest.Options{}, 401},
		{"bearer where basic is wanted", cloudOpts, jiratest.Options{Token: "api-token"}, 401},
		{"bearer ok", jiratest.Options{Token: "pat"}, jiratest.Options{Token: "pat"}, 200},
		{"bearer wrong", jiratest.Options{Token: "pat"}, jiratest.Options{Token: "tap"}, 401},
		{"no auth configured", jiratest.Options{}, jiratest.Options{}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, tt.site)
			c := newClient(t, srv, tt.login)
			_, res, err := c.MySelf.Details(ctx(t), nil)
			if res == nil || res.Code != tt.want {
				t.Fatalf("status = %v (%v), want %d", res, err, tt.want)
			}
			if tt.want == 401 {
				_, e := jiraError(t, res, err)
				if !errors.Is(err, models.ErrUnauthorized) || !strings.Contains(e.ErrorMessages[0], "not authenticated") {
					t.Errorf("401 = %v %+v", err, e)
				}
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []struct {
		name   string
		edit   func(*models.IssueFieldsSchemeV2)
		field  string
		substr string
	}{
		{"unknown project", func(f *models.IssueFieldsSchemeV2) { f.Project.Key = "NOPE" }, "project", "valid project is required"},
		{"missing summary", func(f *models.IssueFieldsSchemeV2) { f.Summary = "" }, "summary", "You must specify a summary of the issue."},
		{"long summary", func(f *models.IssueFieldsSchemeV2) { f.Summary = long }, "summary", "Summary can't exceed 255 characters."},
		// 128 emoji are 128 runes but 256 UTF-16 units: Jira counts units.
		{"emoji summary over 255 units", func(f *models.IssueFieldsSchemeV2) { f.Summary = strings.Repeat("😀", 128) }, "summary", "Summary can't exceed 255 characters."},
		{"emoji label over 255 units", func(f *models.IssueFieldsSchemeV2) { f.Labels = []string{strings.Repeat("😀", 128)} }, "labels", "maximum length"},
		{"emoji description over 32767 units", func(f *models.IssueFieldsSchemeV2) { f.Description = strings.Repeat("😀", 16384) }, "description", "32,767"},
		{"bad issue type", func(f *models.IssueFieldsSchemeV2) { f.IssueType.Name = "Epic" }, "issuetype", "Specify a valid issue type"},
		{"type of another project", func(f *models.IssueFieldsSchemeV2) { f.IssueType.Name = "Incident" }, "issuetype", "Specify a valid issue type"},
		{"issue type by id", func(f *models.IssueFieldsSchemeV2) { f.IssueType = &models.IssueTypeScheme{ID: "424242"} }, "issuetype", "Specify a valid issue type"},
		{"label with space", func(f *models.IssueFieldsSchemeV2) { f.Labels = []string{"x y"} }, "labels", "The label 'x y' contains spaces which is invalid."},
		{"long description", func(f *models.IssueFieldsSchemeV2) { f.Description = strings.Repeat("d", 32768) }, "description", "32,767"},
		{"unknown field", func(f *models.IssueFieldsSchemeV2) { f.DueDate = &models.DateScheme{} }, "duedate", "cannot be set"},
	}
	srv := newSite(t, cloudOpts)
	srv.AddProject("OPS", "Operations", "Incident")
	c := newClient(t, srv, cloudOpts)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := newIssue("valid")
			tt.edit(payload.Fields)
			_, res, err := c.Issue.Create(ctx(t), payload, nil)
			code, e := jiraError(t, res, err)
			if code != 400 || !strings.Contains(e.Errors[tt.field], tt.substr) || e.ErrorMessages == nil {
				t.Errorf("got %d %+v, want errors[%s] containing %q", code, e, tt.field, tt.substr)
			}
		})
	}
	if n := len(srv.Issues()); n != 0 {
		t.Errorf("%d issues created by invalid requests", n)
	}
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		status     int
		retryAfter time.Duration
		header     string
	}{
		{"rate limited", "GET", 429, 1500 * time.Millisecond, "2"},
		{"unavailable, any method", "", 503, 3 * time.Second, "3"},
		{"internal error", "GET", 500, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, cloudOpts)
			c := newClient(t, srv, cloudOpts)
			srv.FailNext(tt.method, "/rest/api/2/myself", 1, tt.status, tt.retryAfter)
			_, res, err := c.MySelf.Details(ctx(t), nil)
			code, e := jiraError(t, res, err)
			if code != tt.status || len(e.ErrorMessages) == 0 {
				t.Errorf("failure = %d %+v", code, e)
			}
			if got := res.Response.Header.Get("Retry-After"); got != tt.header {
				t.Errorf("Retry-After = %q, want %q", got, tt.header)
			}
			must[*models.UserScheme](t)(c.MySelf.Details(ctx(t), nil))
			reqs := srv.Requests()
			if len(reqs) != 2 || reqs[0].Status != tt.status || reqs[1].Status != 200 {
				t.Errorf("requests = %+v", reqs)
			}
		})
	}
}

func TestFailNextMatchesPrefixOnly(t *testing.T) {
	srv := newSite(t, cloudOpts)
	c := newClient(t, srv, cloudOpts)
	srv.FailNext("POST", "/rest/api/2/issue", 2, 503, 0)
	must[*models.UserScheme](t)(c.MySelf.Details(ctx(t), nil))
	for i := 0; i < 2; i++ {
		if _, res, _ := c.Issue.Create(ctx(t), newIssue("x"), nil); res.Code != 503 {
			t.Fatalf("attempt %d = %d, want 503", i, res.Code)
		}
	}
	must[*models.IssueResponseScheme](t)(c.Issue.Create(ctx(t), newIssue("x"), nil))
}

func TestDelayHonoursClientTimeout(t *testing.T) {
	srv := newSite(t, cloudOpts)
	srv.SetDelay(time.Minute)
	c := newClient(t, srv, cloudOpts)
	c.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
	if _, _, err := c.Issue.Create(ctx(t), newIssue("slow"), nil); err == nil {
		t.Fatal("slow call succeeded")
	}
	if !srv.WaitFor(5*time.Second, func() bool { return len(srv.Requests()) == 1 }) {
		t.Fatal("request never finished")
	}
	if r := srv.Requests()[0]; r.Status != 0 || len(srv.Issues()) != 0 {
		t.Errorf("timed-out request: status %d, %d issues", r.Status, len(srv.Issues()))
	}
}

func TestContextPathRequired(t *testing.T) {
	opts := jiratest.Options{ContextPath: "jira/"}
	srv := newSite(t, opts)
	c := newClient(t, srv, opts)
	must[*models.UserScheme](t)(c.MySelf.Details(ctx(t), nil))
	resp, err := http.Get(strings.TrimSuffix(srv.URL, "/jira") + "/rest/api/2/myself")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("outside the context path = %d", resp.StatusCode)
	}
	if r := srv.Requests()[0]; r.Path != "/rest/api/2/myself" {
		t.Errorf("recorded path = %q", r.Path)
	}
}

func TestAttachmentNeedsXSRFHeader(t *testing.T) {
	srv := newSite(t, jiratest.Options{})
	if _, err := srv.As(alice).CreateIssue("PROJ", "Bug", "x", ""); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL+"/rest/api/2/issue/PROJ-1/attachments", "multipart/form-data; boundary=x", strings.NewReader("--x--"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || string(body) != "XSRF check failed" {
		t.Errorf("no token = %d %q", resp.StatusCode, body)
	}
}

func TestProjectAndCreateMeta(t *testing.T) {
	tests := []struct {
		deployment, count string
	}{
		{"Cloud", "issueTypes.#"},
		{"Server", "values.#"},
	}
	for _, tt := range tests {
		t.Run(tt.deployment, func(t *testing.T) {
			opts := jiratest.Options{Deployment: tt.deployment}
			srv := newSite(t, opts)
			srv.AddProject("OPS", "Operations", "Incident")
			c := newClient(t, srv, opts)
			meta, res, err := c.Issue.Metadata.FetchIssueMappings(ctx(t), "OPS", 0, 50)
			ok(t)(res, err)
			if n := meta.Get(tt.count).Int(); n != 1 {
				t.Errorf("%s = %d in %s", tt.count, n, meta.Raw)
			}
			_, res, err = c.Project.Get(ctx(t), "NOPE", nil)
			code, e := jiraError(t, res, err)
			if code != 404 || e.ErrorMessages[0] != "No project could be found with key 'NOPE'." {
				t.Errorf("missing project = %d %+v", code, e)
			}
		})
	}
}

func TestActorErrors(t *testing.T) {
	srv := newSite(t, jiratest.Options{})
	a := srv.As(alice)
	is, err := a.CreateIssue("PROJ", "Task", "x", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		do     func() error
		status int
	}{
		{"unknown project", func() error { _, err := a.CreateIssue("NOPE", "Task", "x", ""); return err }, 400},
		{"empty summary", func() error { _, err := a.CreateIssue("PROJ", "Task", " ", ""); return err }, 400},
		{"missing issue", func() error { _, err := a.Comment("PROJ-9", "x"); return err }, 404},
		{"empty comment", func() error { _, err := a.Comment(is.Key, ""); return err }, 400},
		{"missing comment", func() error { return a.EditComment(is.Key, "1", "x") }, 404},
		{"same status", func() error { return a.Transition(is.Key, "To Do") }, 400},
		{"unknown status", func() error { return a.Transition(is.Key, "Blocked") }, 400},
		{"unknown assignee", func() error { return a.Assign(is.Key, &jiratest.User{AccountID: "ghost"}) }, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *jiratest.Error
			if err := tt.do(); !errors.As(err, &e) || e.Status != tt.status {
				t.Errorf("err = %v, want status %d", err, tt.status)
			}
		})
	}
}

func TestChangedAndSnapshots(t *testing.T) {
	srv := newSite(t, jiratest.Options{})
	changed := srv.Changed()
	is, err := srv.As(bob).CreateIssue("PROJ", "Story", "a story", "")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed by a new issue")
	}
	is.Labels = append(is.Labels, "mutated")
	if again, _ := srv.Issue(is.Key); len(again.Labels) != 0 || again.Reporter.AccountID != bob.AccountID {
		t.Errorf("snapshot shares state: %+v", again)
	}
	if all := srv.Issues(); len(all) != 1 || all[0].Key != "PROJ-1" {
		t.Errorf("issues = %+v", all)
	}
}

func TestSummaryLimitCountsUTF16(t *testing.T) {
	tests := []struct {
		name    string
		site    jiratest.Options
		summary string
		want    string // "" = created
	}{
		{"255 ASCII", cloudOpts, strings.Repeat("x", 255), ""},
		{"127 emoji + 1 = 255 units", cloudOpts, strings.Repeat("😀", 127) + "x", ""},
		{"128 emoji = 256 units, Cloud", cloudOpts, strings.Repeat("😀", 128), "Summary can't exceed 255 characters."},
		{"128 emoji = 256 units, Data Center", jiratest.Options{Deployment: "Server"}, strings.Repeat("😀", 128), "Summary must be less than 255 characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, tt.site)
			c := newClient(t, srv, tt.site)
			_, res, err := c.Issue.Create(ctx(t), newIssue(tt.summary), nil)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				return
			}
			code, e := jiraError(t, res, err)
			if code != 400 || e.Errors["summary"] != tt.want || e.ErrorMessages == nil || len(e.ErrorMessages) != 0 {
				t.Errorf("got %d %+v, want 400 errors.summary %q", code, e, tt.want)
			}
		})
	}
}

func TestCommentLimitCountsUTF16(t *testing.T) {
	srv := newSite(t, cloudOpts)
	c := newClient(t, srv, cloudOpts)
	is, _, err := c.Issue.Create(ctx(t), newIssue("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := c.Issue.Comment.Add(ctx(t), is.Key, &models.CommentPayloadSchemeV2{Body: strings.Repeat("😀", 16384)}, nil)
	if code, e := jiraError(t, res, err); code != 400 || !strings.Contains(e.Errors["comment"], "32,767") {
		t.Errorf("got %d %+v", code, e)
	}
}
