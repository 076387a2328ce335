package jira

import (
	"context"
	"io"
	"net/http"
	"net/url"
)

// AttachmentInfo is a file already attached to an issue.
type AttachmentInfo struct {
	ID, Filename string
	Size         int64
}

// Attachments lists the files attached to an issue, so that an upload
// interrupted half-way can be resumed without attaching a file twice.
func (c *Client) Attachments(ctx context.Context, key string) ([]AttachmentInfo, error) {
	var out struct {
		Fields struct {
			Attachment []struct {
				ID       Text  `json:"id"`
				Filename Text  `json:"filename"`
				Size     int64 `json:"size"`
			} `json:"attachment"`
		} `json:"fields"`
	}
	err := c.call(ctx, "read attachments", http.MethodGet, "rest/api/2/issue/"+url.PathEscape(key)+"?fields=attachment", nil, &out)
	if err != nil {
		return nil, err
	}
	list := make([]AttachmentInfo, 0, len(out.Fields.Attachment))
	for _, a := range out.Fields.Attachment {
		list = append(list, AttachmentInfo{ID: string(a.ID), Filename: string(a.Filename), Size: a.Size})
	}
	return list, nil
}

// Attach uploads content as an attachment named filename and returns the
// new attachment's id. go-atlassian sends it as the multipart field "file"
// with X-Atlassian-Token: no-check, without which Jira refuses the upload
// as a possible XSRF.
func (c *Client) Attach(ctx context.Context, key, filename string, content io.Reader) (string, error) {
	list, resp, err := c.api.Issue.Attachment.Add(ctx, key, Filename(filename), content)
	if err := classify("attach file", resp, err); err != nil {
		return "", err
	}
	if len(list) == 0 || list[0] == nil {
		return "", nil
	}
	return list[0].ID, nil
}
