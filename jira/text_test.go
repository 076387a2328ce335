package jira

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jtbot/jtbot/jira/jiratest"
)

func TestTruncateUTF16(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"fits", "hello", 5, "hello"},
		{"ascii cut", "hello world", 6, "hello…"},
		{"trailing space dropped", "hello world", 7, "hello…"},
		{"emoji counts two", "😀😀😀", 5, "😀😀…"},
		{"never splits a pair", "a😀b", 3, "a…"},
		{"exact units with emoji", "😀😀", 4, "😀😀"},
		{"max 1", "abc", 1, "…"},
		{"max 0", "abc", 0, ""},
		{"cyrillic is one unit", strings.Repeat("ж", 10), 5, "жжжж…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TruncateUTF16(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("TruncateUTF16(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if UTF16Len(got) > tt.max || !utf8.ValidString(got) {
				t.Errorf("result %q: %d units, valid %v", got, UTF16Len(got), utf8.ValidString(got))
			}
		})
	}
}

func TestSummaryOfEmojiFitsJira(t *testing.T) {
	s := TruncateUTF16(strings.Repeat("😀", 200), MaxSummary)
	if n := UTF16Len(s); n > MaxSummary || n < MaxSummary-1 {
		t.Errorf("%d units", n)
	}
}

func TestLabelAndFilename(t *testing.T) {
	if got := Label(" needs  review\t"); got != "needs_review" {
		t.Errorf("Label = %q", got)
	}
	if got := Label(strings.Repeat("😀", 200)); UTF16Len(got) > MaxLabel || !utf8.ValidString(got) {
		t.Errorf("long label: %d units", UTF16Len(got))
	}
	long := strings.Repeat("ф", 300) + ".pdf"
	got := Filename(long)
	if UTF16Len(got) > MaxFilename || !strings.HasSuffix(got, "….pdf") {
		t.Errorf("Filename = %q (%d units)", got, UTF16Len(got))
	}
	if Filename("a.txt") != "a.txt" {
		t.Error("short name changed")
	}
}

func TestCreateIssueFitsJiraLimits(t *testing.T) {
	deployments(t, func(t *testing.T, srv *jiratest.Server, c *Client) {
		n := NewIssue{Project: "OPS", Type: "Task", Summary: strings.Repeat("😀", 200),
			Labels: []string{"needs review", strings.Repeat("я", 300)}}
		got, err := c.CreateIssue(context.Background(), n)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		is, _ := srv.Issue(got.Key)
		if UTF16Len(is.Summary) > MaxSummary || !strings.HasSuffix(is.Summary, "…") {
			t.Errorf("summary %d units", UTF16Len(is.Summary))
		}
		if len(is.Labels) != 2 || is.Labels[0] != "needs_review" {
			t.Errorf("labels = %q", is.Labels)
		}
	})
}
