package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParseChatProjects parses "chatID:PROJECT,chatID:PROJECT".
func ParseChatProjects(raw string) (map[int64]string, error) {
	out := make(map[int64]string)
	for _, pair := range splitList(raw) {
		idText, key, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not chatID:PROJECT", pair)
		}
		id, err := strconv.ParseInt(strings.TrimSpace(idText), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: chat ID must be a number like -1001234567890", pair)
		}
		key = strings.TrimSpace(key)
		if !projectPattern.MatchString(key) {
			return nil, fmt.Errorf("%q: %q is not a Jira project key", pair, key)
		}
		if prev, dup := out[id]; dup && prev != key {
			return nil, fmt.Errorf("chat %d is mapped to both %s and %s", id, prev, key)
		}
		out[id] = key
	}
	return out, nil
}

// parseHashtagTypes parses "tag:Type,tag:Type"; tags are matched without
// case, so they are kept in lower case.
func parseHashtagTypes(raw string) (map[string]string, error) {
	out := make(map[string]string)
	for _, pair := range splitList(raw) {
		tag, typ, ok := strings.Cut(pair, ":")
		tag = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(tag), "#"))
		typ = strings.TrimSpace(typ)
		if !ok || tag == "" || typ == "" {
			return nil, fmt.Errorf("%q is not hashtag:IssueType", pair)
		}
		out[tag] = typ
	}
	return out, nil
}

func splitList(raw string) []string {
	var out []string
	for _, item := range strings.Split(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Users is a set of Telegram users named by ID or @username, or everyone.
type Users struct {
	Everyone  bool
	IDs       map[int64]bool
	Usernames map[string]bool // lower case, without @
}

// ParseUsers parses "123,@name,*".
func ParseUsers(raw string) (Users, error) {
	u := Users{IDs: map[int64]bool{}, Usernames: map[string]bool{}}
	for _, item := range splitList(raw) {
		switch {
		case item == "*":
			u.Everyone = true
		case strings.HasPrefix(item, "@") && len(item) > 1:
			u.Usernames[strings.ToLower(item[1:])] = true
		default:
			id, err := strconv.ParseInt(item, 10, 64)
			if err != nil {
				return Users{}, fmt.Errorf("%q is not a user ID, an @username or *", item)
			}
			u.IDs[id] = true
		}
	}
	return u, nil
}

// Contains reports whether the user with this ID and username is in the set.
func (u Users) Contains(id int64, username string) bool {
	if u.Everyone || u.IDs[id] {
		return true
	}
	return username != "" && u.Usernames[strings.ToLower(username)]
}

func (u Users) String() string {
	if u.Everyone {
		return "*"
	}
	var parts []string
	for id := range u.IDs {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	for name := range u.Usernames {
		parts = append(parts, "@"+name)
	}
	return strings.Join(parts, ",")
}

// ParseProxies parses "CIDR,CIDR"; a bare address is a one-address prefix.
// A prefix that spans everything is refused: it would believe any
// client's X-Forwarded-For.
func ParseProxies(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(raw) {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not a CIDR such as 127.0.0.1/32 or ::1/128", item)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%q would trust every client's X-Forwarded-For; name your proxies' addresses", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ParseAdminIDs parses ADMIN_USERS: numeric Telegram user IDs only. A
// username can change hands, and "*" would make everyone an admin.
func ParseAdminIDs(raw string) (Users, error) {
	u := Users{IDs: map[int64]bool{}, Usernames: map[string]bool{}}
	for _, item := range splitList(raw) {
		id, err := strconv.ParseInt(item, 10, 64)
		if err != nil {
			return Users{}, fmt.Errorf("%q is not a numeric Telegram user ID (admins are named by ID only; a refused user is told their ID)", item)
		}
		u.IDs[id] = true
	}
	return u, nil
}
