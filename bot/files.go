package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/jtbot/jtbot/jira"
	"github.com/jtbot/jtbot/markup"
	"github.com/jtbot/jtbot/storage"
	"github.com/jtbot/jtbot/telegram"
)

// maxDownload is the largest file the Bot API lets a bot download.
const maxDownload = 20 << 20

// media is one file to attach to an issue: a Telegram file, or text made
// here (the whole of a message too long for a Jira field).
type media struct {
	name   string // file name in Jira, unique within the message
	title  string // what a person calls it: the original name, or "Photo"
	size   int64  // as Telegram reports it; 0 when unknown
	fileID string
	text   []byte // content made here, when fileID is empty
}

// mediaOf returns the file a message carries, if any. Photos come in
// several sizes; telebot keeps the last, which Telegram makes the largest.
func mediaOf(m *tele.Message) (media, bool) {
	var f tele.File
	var kind, name, mimeType string
	switch {
	case m.Photo != nil:
		f, kind, mimeType = m.Photo.File, "Photo", "image/jpeg"
	case m.Animation != nil: // sent with a document too, for old clients
		f, kind, name, mimeType = m.Animation.File, "Animation", m.Animation.FileName, m.Animation.MIME
	case m.Document != nil:
		f, kind, name, mimeType = m.Document.File, "Document", m.Document.FileName, m.Document.MIME
	case m.Video != nil:
		f, kind, name, mimeType = m.Video.File, "Video", m.Video.FileName, m.Video.MIME
	case m.Audio != nil:
		f, kind, name, mimeType = m.Audio.File, "Audio", m.Audio.FileName, m.Audio.MIME
	case m.Voice != nil:
		f, kind, mimeType = m.Voice.File, "Voice message", m.Voice.MIME
	case m.VideoNote != nil:
		f, kind, mimeType = m.VideoNote.File, "Video message", "video/mp4"
	default:
		return media{}, false
	}
	if f.FileID == "" {
		return media{}, false
	}
	out := media{title: kind, size: f.FileSize, fileID: f.FileID}
	if name = cleanFileName(name); name != "" {
		out.name, out.title = name, name
	} else {
		// Telegram gives photos and voice no name; the file's unique id keeps
		// the names of an album's photos apart.
		id := f.UniqueID
		if id == "" {
			id = f.FileID
		}
		out.name = strings.ReplaceAll(strings.ToLower(kind), " ", "_") + "_" + cleanFileName(id) + extension(mimeType)
	}
	return out, true
}

// mediaOfAll collects the files of messages (one, or an album).
func mediaOfAll(msgs []*tele.Message) []media {
	var out []media
	for _, m := range msgs {
		if f, ok := mediaOf(m); ok {
			out = append(out, f)
		}
	}
	return out
}

// extension maps the types Telegram sends without a file name.
func extension(mimeType string) string {
	switch strings.ToLower(mimeType) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "video/mp4":
		return ".mp4"
	case "video/quicktime":
		return ".mov"
	case "audio/mpeg":
		return ".mp3"
	case "audio/ogg":
		return ".ogg"
	case "audio/mp4", "audio/x-m4a":
		return ".m4a"
	case "application/pdf":
		return ".pdf"
	}
	return ""
}

// cleanFileName keeps a name usable in Jira wiki references ([^name]) and
// in a multipart header: no path, no markup or control characters.
func cleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || strings.ContainsRune(`[]|^!{}*"`, r) {
			return '_'
		}
		return r
	}, name)
	return strings.TrimSpace(name)
}

// skipped is a file that could not be attached, and why, in words.
type skipped struct {
	media
	reason string
}

func (s skipped) line() string {
	size := ""
	if s.size > 0 {
		size = " (" + humanSize(s.size) + ")"
	}
	return "📎 " + markup.Escape(s.title) + size + ": " + markup.Escape(s.reason)
}

const tooBigReason = "over the 20 MB that Telegram lets bots download, so it is not attached"

// tooBig says whether Telegram will refuse to hand out the file.
func tooBig(f media) bool { return f.fileID != "" && f.size > maxDownload }

// attachFiles uploads files to an issue, skipping those an earlier attempt
// already attached (same name and size), so a retry after a failure half-way
// through an album attaches nothing twice. Files that cannot be attached
// for good are returned with the reason; only retryable failures are errors.
func (b *Bot) attachFiles(ctx context.Context, key string, files []media, from *tele.Message) ([]skipped, error) {
	if len(files) == 0 {
		return nil, nil
	}
	existing, err := b.jc(ctx).Attachments(ctx, key)
	if err != nil {
		return nil, err
	}
	var out []skipped
	for _, f := range files {
		if attached(existing, f) {
			continue
		}
		if tooBig(f) {
			out = append(out, skipped{f, tooBigReason})
			continue
		}
		reason, err := b.attachOne(ctx, key, f, from)
		if err != nil {
			return out, err
		}
		if reason != "" {
			out = append(out, skipped{f, reason})
		}
	}
	return out, nil
}

func attached(existing []jira.AttachmentInfo, f media) bool {
	size := f.size
	if f.fileID == "" {
		size = int64(len(f.text))
	}
	for _, a := range existing {
		if a.Filename == f.name && (size == 0 || a.Size == size) {
			return true
		}
	}
	return false
}

// attachOne downloads one file from Telegram and uploads it to Jira. A
// non-empty reason says why it can never be attached.
func (b *Bot) attachOne(ctx context.Context, key string, f media, from *tele.Message) (reason string, err error) {
	var content io.Reader = bytes.NewReader(f.text)
	if f.fileID != "" {
		rc, err := b.tg.File(ctx, f.fileID)
		if err != nil {
			return b.downloadFailed(f, err)
		}
		defer rc.Close()
		content = rc
	}
	id, err := b.jc(ctx).Attach(ctx, key, f.name, content)
	if err == nil {
		return "", b.ownAttachment(key, id, from)
	}
	var je *jira.Error
	if !errors.As(err, &je) || je.Temporary() || isConfigProblem(err) || je.Status == 404 {
		return "", err
	}
	b.log.WithError(err).WithField("issue", key).Warn("Jira refused an attachment")
	if je.Message != "" {
		return "Jira refused it: " + je.Message, nil
	}
	return fmt.Sprintf("Jira refused it (status %d)", je.Status), nil
}

// ownAttachment records a file jtbot attached from Telegram, so that
// Jira's attachment_created event for it is not echoed back to the chat. It
// is kept like a comment that no message shows (message id 0 never exists):
// the message the file came from keeps its own link.
func (b *Bot) ownAttachment(key, id string, from *tele.Message) error {
	if id == "" {
		return nil
	}
	return b.store.LinkComment(key, "attachment:"+id, storage.MessageRef{ChatID: from.Chat.ID}, true)
}

// downloadFailed sorts Telegram's refusals: a file over the download limit
// (file_size may be missing) or gone for good is noted, the rest retried.
func (b *Bot) downloadFailed(f media, err error) (string, error) {
	if strings.Contains(err.Error(), "file is too big") {
		return tooBigReason, nil
	}
	if e, ok := telegram.AsError(err); !ok || e.Temporary() {
		return "", err
	}
	b.log.WithError(err).Warn("Telegram refused a file download")
	return "Telegram would not hand it out", nil
}

// noteSkipped tells the issue, in one comment, which files of a post could
// not be attached. The comment is written at most once per post: a retry
// must not repeat it.
func (b *Bot) noteSkipped(ctx context.Context, key string, post *tele.Message, files []skipped) error {
	if len(files) == 0 {
		return nil
	}
	first, err := b.store.Remember("tg-skipped:"+key+":"+originOf(refOf(post)), noteMemory)
	if err != nil || !first {
		return err
	}
	lines := make([]string, 0, len(files)+1)
	lines = append(lines, "_jtbot: files of the Telegram post that are not attached_")
	for _, f := range files {
		lines = append(lines, f.line())
	}
	id, err := b.jc(ctx).AddComment(ctx, key, strings.Join(lines, "\n"))
	if err != nil {
		// A retry would not write it again (see above): say so and move on.
		b.log.WithError(err).WithField("issue", key).Warn("cannot note the files that are not attached")
		return nil
	}
	// Recorded as written from Telegram so that it is not echoed back; like
	// ownAttachment, it stands for no message of its own.
	return b.store.LinkComment(key, id, storage.MessageRef{ChatID: post.Chat.ID}, true)
}

// noteMemory is how long a note stays written: longer than any retry.
const noteMemory = 30 * 24 * time.Hour
