package jira

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Jira's length limits count Java chars: UTF-16 code units, so an emoji
// outside the Basic Multilingual Plane counts twice. Sources:
// summary — Jira's "Summary must be less than 255 characters." (the field
// is a varchar(255) on Data Center); comment and description —
// jira.text.field.character.limit, 32767 by default
// (https://confluence.atlassian.com/adminjiraserver/configuring-advanced-settings-938847741.html);
// labels — "exceeds the maximum length for a single label of 255
// characters", and no spaces.
const (
	MaxSummary = 255
	MaxText    = 32767 // comment body, description, any text field
	MaxLabel   = 255
	// MaxFilename is the longest attachment name jtbot sends: Jira stores
	// the name in a varchar(255) and file systems cap names at 255 bytes.
	MaxFilename = 255
)

// UTF16Len is the length of s as Jira counts it.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // an invalid byte reads as U+FFFD: one unit
	}
	return n
}

// TruncateUTF16 returns s if it fits in max UTF-16 code units, else the
// longest prefix that fits with "…" appended, never splitting a surrogate
// pair (it cuts between runes). Trailing spaces before the "…" go.
func TruncateUTF16(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if UTF16Len(s) <= max {
		return s
	}
	budget := max - 1 // "…" is one unit
	used, end := 0, 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if used+w > budget {
			break
		}
		used += w
		end = i + utf8.RuneLen(r)
	}
	return strings.TrimRight(s[:end], " \t") + "…"
}

// Label makes a label Jira accepts: whitespace becomes "_" (Jira refuses
// labels with spaces) and it is cut to MaxLabel units, without "…".
func Label(s string) string {
	s = strings.Join(strings.Fields(s), "_")
	if UTF16Len(s) <= MaxLabel {
		return s
	}
	used, end := 0, 0
	for i, r := range s {
		if used += utf16.RuneLen(r); used > MaxLabel {
			break
		}
		end = i + utf8.RuneLen(r)
	}
	return s[:end]
}

// Filename cuts an attachment name to MaxFilename units, keeping its
// extension so that Jira still guesses the right type.
func Filename(name string) string {
	if UTF16Len(name) <= MaxFilename {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && UTF16Len(name[i:]) <= 16 {
		name, ext = name[:i], name[i:]
	}
	return TruncateUTF16(name, MaxFilename-UTF16Len(ext)) + ext
}
