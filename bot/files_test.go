package bot

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/jtbot/jtbot/jira/jiratest"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram/telegramtest"
)

// content is a file of n bytes that says which file it is.
func content(name string, n int) []byte {
	return append([]byte(name+":"), bytes.Repeat([]byte{'x'}, n-len(name)-1)...)
}

// waitAttachments waits until an issue has n attachments.
func (h *harness) waitAttachments(key string, n int) jiratest.Issue {
	h.t.Helper()
	var is jiratest.Issue
	if !h.jira.WaitFor(waitTime, func() bool { is, _ = h.jira.Issue(key); return len(is.Attachments) >= n }) {
		h.t.Fatalf("%s has %d attachments, want %d\nlogs:\n%s", key, len(is.Attachments), n, h.logText())
	}
	return is
}

func fileNames(is jiratest.Issue) []string {
	var names []string
	for _, a := range is.Attachments {
		names = append(names, a.Filename)
	}
	return names
}

func TestPhotoPostBecomesIssueWithLargestSize(t *testing.T) {
	h := newHarness(t)
	up := asChannelPost(tgFixture(t, "private-photo-with-caption.json"), testChannel)
	largest := content("SEES", 104893)
	h.tg.AddFile("SEES", "photos/file_3.jpg", largest)
	h.tg.AddFile("SOOOS", "photos/file_1.jpg", content("SOOOS", 26542))
	h.tg.Push(up)
	wantText(t, h.answerTo(testChannelID, idOf(up)), "OPS-1")
	is := h.waitAttachments("OPS-1", 1)
	if is.Summary != "asdasdasdasdasdasd" {
		t.Errorf("summary = %q: the caption is the text", is.Summary)
	}
	if a := is.Attachments[0]; a.Filename != "photo_SEES.jpg" || !bytes.Equal(a.Content, largest) || a.MimeType != "image/jpeg" {
		t.Errorf("attachment %s (%s) of %d bytes, want the largest size", a.Filename, a.MimeType, len(a.Content))
	}
	h.waitIdle()
	if is, _ := h.jira.Issue("OPS-1"); len(is.Attachments) != 1 {
		t.Errorf("attachments = %q", fileNames(is))
	}
}

func TestDocumentWithoutCaptionBecomesIssue(t *testing.T) {
	h := newHarness(t)
	up := asChannelPost(tgFixture(t, "private-document.json"), testChannel)
	pdf := content("pdf", 123456)
	h.tg.AddFile("a1b2c34d5e6f7g8h9i", "documents/file_7.pdf", pdf)
	h.tg.Push(up)
	h.answerTo(testChannelID, idOf(up))
	is := h.waitAttachments("OPS-1", 1)
	if is.Summary != "document.pdf" {
		t.Errorf("summary = %q, want the file name", is.Summary)
	}
	if a := is.Attachments[0]; a.Filename != "document.pdf" || !bytes.Equal(a.Content, pdf) {
		t.Errorf("attachment %s of %d bytes", a.Filename, len(a.Content))
	}
}

// mediaReply builds a reply carrying one file of the given kind.
func mediaReply(h *harness, to int, kind string, file map[string]any, caption string) map[string]any {
	up := h.tg.GroupMessage(testGroup, testAlice, "", to)
	m := inner(up)
	delete(m, "text")
	if kind == "photo" {
		m[kind] = []map[string]any{file}
	} else {
		m[kind] = file
	}
	if kind == "animation" { // Telegram sends animations as documents too
		m["document"] = file
	}
	if caption != "" {
		m["caption"] = caption
	}
	return up
}

func TestFilesInReplies(t *testing.T) {
	h := newHarness(t, "CHAT_PROJECTS="+strconv.FormatInt(testGroupID, 10)+":OPS")
	key := h.newIssue("Printer on fire")
	root := h.tg.GroupMessage(testGroup, testAlice, "root", 0)
	h.tg.Push(root)
	if err := h.store.LinkMessage(testGroupID, idOf(root), storage.Link{Issue: key}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, kind, fileID string
		file               map[string]any
		caption            string
		want               string // attachment name
	}{
		{name: "photo", kind: "photo", fileID: "ph1", caption: "look",
			file: map[string]any{"file_unique_id": "Uph1", "width": 800, "height": 600}, want: "photo_Uph1.jpg"},
		{name: "video with a name", kind: "video", fileID: "vi1",
			file: map[string]any{"file_unique_id": "Uvi1", "file_name": "smoke.mp4", "mime_type": "video/mp4", "duration": 3}, want: "smoke.mp4"},
		{name: "audio without a name", kind: "audio", fileID: "au1",
			file: map[string]any{"file_unique_id": "Uau1", "mime_type": "audio/mpeg", "duration": 3}, want: "audio_Uau1.mp3"},
		{name: "voice", kind: "voice", fileID: "vo1",
			file: map[string]any{"file_unique_id": "Uvo1", "mime_type": "audio/ogg", "duration": 2}, want: "voice_message_Uvo1.ogg"},
		{name: "animation", kind: "animation", fileID: "an1",
			file: map[string]any{"file_unique_id": "Uan1", "file_name": "fire.gif.mp4", "mime_type": "video/mp4", "duration": 1}, want: "fire.gif.mp4"},
		{name: "document with markup in its name", kind: "document", fileID: "do1",
			file: map[string]any{"file_unique_id": "Udo1", "file_name": "log [1].txt", "mime_type": "text/plain"}, want: "log _1_.txt"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := content(tc.fileID, 1000+i)
			h.tg.AddFile(tc.fileID, tc.kind+"s/"+tc.fileID, data)
			tc.file["file_id"], tc.file["file_size"] = tc.fileID, len(data)
			h.tg.Push(mediaReply(h, idOf(root), tc.kind, tc.file, tc.caption))
			is := h.waitComments(key, i+1)
			is = h.waitAttachments(key, i+1)
			a := is.Attachments[i]
			if a.Filename != tc.want || !bytes.Equal(a.Content, data) {
				t.Errorf("attachment %q of %d bytes, want %q", a.Filename, len(a.Content), tc.want)
			}
			body := is.Comments[i].Body
			if !strings.Contains(body, "[^"+tc.want+"]") || !strings.Contains(body, "Alice Liddell (@alice) via Telegram") || !strings.Contains(body, tc.caption) {
				t.Errorf("comment = %q", body)
			}
		})
	}
}

func TestFilesOverTheDownloadLimit(t *testing.T) {
	h := newHarness(t)
	t.Run("file_size says so: a comment, no download", func(t *testing.T) {
		up := asChannelPost(tgFixture(t, "private-document.json"), testChannel)
		doc := inner(up)["document"].(map[string]any)
		doc["file_id"], doc["file_size"], doc["file_name"] = "huge", 25<<20, "dump.bin"
		inner(up)["caption"] = "Core dump"
		h.tg.Push(up)
		h.answerTo(testChannelID, idOf(up))
		is := h.waitComments("OPS-1", 1)
		if c := is.Comments[0].Body; !strings.Contains(c, "dump.bin (25.0 MB)") || !strings.Contains(c, "20 MB") {
			t.Errorf("comment = %q", c)
		}
		if len(is.Attachments) != 0 || h.tg.CallCount("getFile") != 0 {
			t.Errorf("attachments %q, %d getFile calls", fileNames(is), h.tg.CallCount("getFile"))
		}
	})
	t.Run("getFile says so", func(t *testing.T) {
		h.tg.AddFile("big", "videos/big.mp4", content("big", 100))
		h.tg.SetFileSize("big", 30<<20)
		root := h.tg.GroupMessage(testGroup, testAlice, "root", 0)
		h.tg.Push(root)
		if err := h.store.LinkMessage(testGroupID, idOf(root), storage.Link{Issue: "OPS-1"}); err != nil {
			t.Fatal(err)
		}
		// No file_size in the message: only getFile tells.
		h.tg.Push(mediaReply(h, idOf(root), "video", map[string]any{"file_id": "big", "file_unique_id": "Ubig", "file_name": "big.mp4", "duration": 9}, "the recording"))
		is := h.waitComments("OPS-1", 2)
		if c := is.Comments[1].Body; !strings.Contains(c, "big.mp4") || !strings.Contains(c, "20 MB") || !strings.Contains(c, "the recording") {
			t.Errorf("comment = %q", c)
		}
		if len(is.Attachments) != 0 {
			t.Errorf("attachments = %q", fileNames(is))
		}
	})
}

// albumPost builds one photo of an album in the channel.
func albumPost(h *harness, group, fileID, caption string) map[string]any {
	up := h.tg.ChannelPost(testChannel, "")
	m := inner(up)
	delete(m, "text")
	data := content(fileID, 500)
	h.tg.AddFile(fileID, "photos/"+fileID+".jpg", data)
	m["photo"] = []map[string]any{{"file_id": fileID, "file_unique_id": "U" + fileID, "file_size": len(data), "width": 800, "height": 600}}
	m["media_group_id"] = group
	if caption != "" {
		m["caption"] = caption
	}
	return up
}

func TestAlbumIsOneIssue(t *testing.T) {
	h := newHarness(t)
	ups := []map[string]any{
		albumPost(h, "13579", "p1", "Broken rack #hw"),
		albumPost(h, "13579", "p2", ""),
		albumPost(h, "13579", "p3", ""),
	}
	inner(ups[0])["caption_entities"] = []map[string]any{{"type": "hashtag", "offset": 12, "length": 3}}
	for _, up := range ups {
		h.tg.Push(up)
	}
	wantText(t, h.answerTo(testChannelID, idOf(ups[0])), "OPS-1")
	is := h.waitAttachments("OPS-1", 3)
	h.waitIdle()
	is, _ = h.jira.Issue("OPS-1")
	if n := len(h.jira.Issues()); n != 1 {
		t.Errorf("%d issues", n)
	}
	if got := strings.Join(fileNames(is), ","); got != "photo_Up1.jpg,photo_Up2.jpg,photo_Up3.jpg" {
		t.Errorf("attachments = %s", got)
	}
	if is.Summary != "Broken rack #hw" || len(is.Labels) != 1 {
		t.Errorf("issue = %q %q", is.Summary, is.Labels)
	}
	if n := len(h.tg.SentTo(testChannelID)); n != 1 {
		t.Errorf("sent %+v, want one answer and no echo of the files", h.tg.SentTo(testChannelID))
	}
	// A reply to any photo of the album is a comment on the issue.
	h.tg.Push(h.tg.GroupMessage(telegramtest.Chat{ID: testChannelID, Type: "supergroup"}, testAlice, "which rack?", idOf(ups[2])))
	h.waitComments("OPS-1", 1)
}

func TestAlbumRetriedAfterAFailedUpload(t *testing.T) {
	h := newHarness(t)
	h.jira.FailNext("POST", "/rest/api/2/issue/OPS-1/attachments", 1, 503, 0)
	ups := []map[string]any{albumPost(h, "24680", "q1", "Rack photos"), albumPost(h, "24680", "q2", "")}
	for _, up := range ups {
		h.tg.Push(up)
	}
	h.answerTo(testChannelID, idOf(ups[0]))
	is := h.waitAttachments("OPS-1", 2)
	h.waitIdle()
	is, _ = h.jira.Issue("OPS-1")
	if len(h.jira.Issues()) != 1 || len(is.Attachments) != 2 || len(h.tg.SentTo(testChannelID)) != 1 {
		t.Errorf("%d issues, attachments %q, %d answers", len(h.jira.Issues()), fileNames(is), len(h.tg.SentTo(testChannelID)))
	}
}

func TestHalfUploadedAlbumIsCompletedWithoutDuplicates(t *testing.T) {
	h := newHarness(t)
	ups := []map[string]any{albumPost(h, "11111", "r1", "Cables"), albumPost(h, "11111", "r2", ""), albumPost(h, "11111", "r3", "")}
	// What a crash half-way leaves: the issue, its link, the first photo.
	key := h.newIssue("Cables")
	lead := storage.MessageRef{ChatID: testChannelID, MessageID: idOf(ups[0])}
	if err := h.store.RecordIssue(lead, key, "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.jira.As(testJane).Attach(key, "photo_Ur1.jpg", content("r1", 500)); err != nil {
		t.Fatal(err)
	}
	for _, up := range ups {
		h.tg.Push(up)
	}
	is := h.waitAttachments(key, 3)
	h.waitIdle()
	is, _ = h.jira.Issue(key)
	if got := strings.Join(fileNames(is), ","); got != "photo_Ur1.jpg,photo_Ur2.jpg,photo_Ur3.jpg" {
		t.Errorf("attachments = %s", got)
	}
	if len(h.jira.Issues()) != 1 {
		t.Errorf("%d issues", len(h.jira.Issues()))
	}
}

func TestAlbumReplyIsOneComment(t *testing.T) {
	h := newHarness(t)
	post := h.tg.ChannelPost(testChannel, "Rack 4 is loud")
	h.tg.Push(post)
	h.answerTo(testChannelID, idOf(post))
	discussion := telegramtest.Chat{ID: testChannelID, Type: "supergroup"}
	var ups []map[string]any
	for i, id := range []string{"t1", "t2"} {
		data := content(id, 700)
		h.tg.AddFile(id, "photos/"+id+".jpg", data)
		up := mediaReply(h, idOf(post), "photo", map[string]any{"file_id": id, "file_unique_id": "U" + id, "file_size": len(data)}, "")
		inner(up)["chat"], inner(up)["media_group_id"] = discussion, "555"
		if i == 0 {
			inner(up)["caption"] = "fan photos"
		}
		ups = append(ups, up)
	}
	for _, up := range ups {
		h.tg.Push(up)
	}
	is := h.waitComments("OPS-1", 1)
	is = h.waitAttachments("OPS-1", 2)
	h.waitIdle()
	is, _ = h.jira.Issue("OPS-1")
	if len(is.Comments) != 1 {
		t.Fatalf("%d comments", len(is.Comments))
	}
	if c := is.Comments[0].Body; !strings.Contains(c, "fan photos") || !strings.Contains(c, "[^photo_Ut1.jpg]") || !strings.Contains(c, "[^photo_Ut2.jpg]") {
		t.Errorf("comment = %q", c)
	}
}
