package telegramtest

import (
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
)

// maxDownload is the largest file getFile hands out, as in the real API.
const maxDownload = 20 << 20

type storedFile struct {
	id       string
	uniqueID string
	path     string
	name     string // original file name, if known
	size     int64
	content  []byte
}

// AddFile makes a file known to getFile; content is served at
// {URL}/file/bot{token}/{filePath}.
func (s *Server) AddFile(fileID, filePath string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[fileID] = &storedFile{
		id:       fileID,
		uniqueID: "u" + fileID,
		path:     filePath,
		name:     path.Base(filePath),
		size:     int64(len(content)),
		content:  append([]byte(nil), content...),
	}
	s.notifyLocked()
}

// SetFileSize overrides the size getFile reports for a known file, e.g. to
// exceed the 20 MB download limit without allocating it.
func (s *Server) SetFileSize(fileID string, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files[fileID]; f != nil {
		f.size = size
	}
}

func (s *Server) getFile(r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[r.str("file_id")]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	if f.size > maxDownload {
		return nil, badRequest("file is too big")
	}
	return map[string]any{
		"file_id":        f.id,
		"file_unique_id": f.uniqueID,
		"file_size":      f.size,
		"file_path":      f.path,
	}, nil
}

func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeError(w, errUnauthorized)
		return
	}
	s.mu.Lock()
	var content []byte
	found := false
	for _, f := range s.files {
		if f.path == filePath && f.size <= maxDownload {
			content, found = f.content, true
			break
		}
	}
	s.mu.Unlock()
	if !found {
		writeError(w, errNotFound)
		return
	}
	ct := mime.TypeByExtension(path.Ext(filePath))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(content)
}

// mediaFileLocked finds the file a send method refers to: a multipart
// upload, an "attach://name" reference, a known file_id or an HTTP URL.
func (s *Server) mediaFileLocked(field string, r *request) (*storedFile, *apiError) {
	if up, ok := r.uploads[field]; ok {
		return s.storeUploadLocked(field, up), nil
	}
	ref := r.str(field)
	if name, ok := strings.CutPrefix(ref, "attach://"); ok {
		if up, ok := r.uploads[name]; ok {
			return s.storeUploadLocked(field, up), nil
		}
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	if ref == "" {
		return nil, badRequest("there is no " + field + " in the request")
	}
	if f := s.files[ref]; f != nil {
		return f, nil
	}
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		return s.storeUploadLocked(field, Upload{FileName: path.Base(ref)}), nil
	}
	return nil, badRequest("wrong file identifier/HTTP URL specified")
}

// storeUploadLocked keeps an uploaded file so getFile can serve it back.
func (s *Server) storeUploadLocked(field string, up Upload) *storedFile {
	s.fileSeq++
	id := fmt.Sprintf("%s-file-%d", field, s.fileSeq)
	name := up.FileName
	if name == "" || name == "." || name == "/" {
		name = fmt.Sprintf("file_%d", s.fileSeq)
	}
	f := &storedFile{
		id:       id,
		uniqueID: fmt.Sprintf("uniq-%d", s.fileSeq),
		path:     fmt.Sprintf("%ss/file_%d%s", field, s.fileSeq, path.Ext(name)),
		name:     name,
		size:     int64(len(up.Content)),
		content:  up.Content,
	}
	s.files[id] = f
	return f
}

// mediaObject renders the file the way a Message carries it.
func (f *storedFile) mediaObject(field string) any {
	if field == "photo" {
		return []map[string]any{{
			"file_id":        f.id,
			"file_unique_id": f.uniqueID,
			"file_size":      f.size,
			"width":          800,
			"height":         600,
		}}
	}
	obj := map[string]any{
		"file_id":        f.id,
		"file_unique_id": f.uniqueID,
		"file_size":      f.size,
	}
	if f.name != "" {
		obj["file_name"] = f.name
	}
	ct := mime.TypeByExtension(path.Ext(f.name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	obj["mime_type"] = strings.TrimSpace(strings.Split(ct, ";")[0])
	if field != "document" {
		obj["duration"] = 1
	}
	return obj
}
