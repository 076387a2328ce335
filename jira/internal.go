package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// InternalNote reports whether a comment is a Jira Service Management
// internal note, read from its sd.public.comment property. Cloud also puts
// "jsdPublic" on comments in webhooks (Comment.Restricted reads it); Data
// Center keeps the mark only in that property, which webhooks do not
// carry, so a Data Center comment must be asked about before it is shown.
// A comment that is gone (404) is reported internal: nothing of it is shown.
func (c *Client) InternalNote(ctx context.Context, key, commentID string) (bool, error) {
	var out struct {
		Properties []struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		} `json:"properties"`
	}
	path := "rest/api/2/issue/" + url.PathEscape(key) + "/comment/" + url.PathEscape(commentID) + "?expand=properties"
	err := c.call(ctx, "read comment properties", http.MethodGet, path, nil, &out)
	if IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, p := range out.Properties {
		if p.Key != "sd.public.comment" {
			continue
		}
		var v struct {
			Internal bool `json:"internal"`
		}
		if json.Unmarshal(p.Value, &v) == nil && v.Internal {
			return true, nil
		}
	}
	return false, nil
}
