package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func validEnv() []string {
	return []string{
		"TELEGRAM_HOOK_TOKEN=123456:test-token_ABC",
		"TELEGRAM_WEBHOOK_URL=https://bot.example.com/webhook/telegram/",
		"JIRA_SERVER=https://example.atlassian.net",
		"JIRA_USER=bot@example.com",
		"JIRA_TOKEN=jira-secret-token",
		"JIRA_WEBHOOK_SECRET=jira-webhook-secret",
	}
}

// testSecretKey is 32 bytes in base64, as openssl rand -base64 32 makes.
const testSecretKey = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="

// oauthEnv turns personal accounts on with an OAuth app.
func oauthEnv() []string {
	return []string{"SECRET_KEY=" + testSecretKey, "JIRA_OAUTH_CLIENT_ID=client-id", "JIRA_OAUTH_CLIENT_SECRET=oauth-client-secret"}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(validEnv(), false)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := map[string][2]any{
		"TelegramAPIURL": {cfg.TelegramAPIURL, "https://api.telegram.org"},
		"JiraIssueType":  {cfg.JiraIssueType, "Task"},
		"CoalesceWindow": {cfg.CoalesceWindow, 2 * time.Second},
		"ListenAddr":     {cfg.ListenAddr, ":8000"},
		"DBPath":         {cfg.DBPath, "jtbot.db"},
		"LogLevel":       {cfg.LogLevel, "info"},
		"LogFormat":      {cfg.LogFormat, "text"},
		"HashtagBug":     {cfg.HashtagTypes["bug"], "Bug"},
		"AuthURL":        {cfg.AtlassianAuthURL, "https://auth.atlassian.com"},
		"APIURL":         {cfg.AtlassianAPIURL, "https://api.atlassian.com"},
		"PublicBase":     {cfg.PublicBase(), "https://bot.example.com"},
		"Callback":       {cfg.OAuthCallbackURL(), "https://bot.example.com/oauth/jira/callback"},
		"Personal":       {cfg.PersonalAccounts(), false},
		"OAuth":          {cfg.OAuth(), false},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	if cfg.TelegramWebhookSecret != DeriveWebhookSecret(cfg.TelegramToken) {
		t.Errorf("webhook secret not derived from the token")
	}
	if !secretPattern.MatchString(cfg.TelegramWebhookSecret) {
		t.Errorf("derived secret %q is not a valid secret_token", cfg.TelegramWebhookSecret)
	}
	if strings.Contains(cfg.TelegramWebhookSecret, "test-token") {
		t.Errorf("derived secret reveals the token")
	}
}

func TestLoadProblemsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		poll bool
		want []string
	}{
		{"nothing set", nil, false, []string{"TELEGRAM_HOOK_TOKEN: required", "TELEGRAM_WEBHOOK_URL: required without -poll", "JIRA_SERVER: required", "JIRA_TOKEN: required", "JIRA_WEBHOOK_SECRET: required without -poll"}},
		{"poll needs no webhook settings", []string{"TELEGRAM_HOOK_TOKEN=1:a", "JIRA_SERVER=http://jira", "JIRA_TOKEN=x"}, true, nil},
		{"bad token", append(validEnv(), "TELEGRAM_HOOK_TOKEN=nope"), false, []string{"TELEGRAM_HOOK_TOKEN: not a bot token"}},
		{"bad urls", append(validEnv(), "JIRA_SERVER=example.com", "TELEGRAM_API_URL=ftp://x"), false, []string{"JIRA_SERVER: \"example.com\" is not an absolute", "TELEGRAM_API_URL: "}},
		{"bad secret", append(validEnv(), "TELEGRAM_WEBHOOK_SECRET=has space"), false, []string{"TELEGRAM_WEBHOOK_SECRET: must be"}},
		{"bad chat projects", append(validEnv(), "CHAT_PROJECTS=-100:ops"), false, []string{"CHAT_PROJECTS: \"-100:ops\": \"ops\" is not a Jira project key"}},
		{"chat id not a number", append(validEnv(), "CHAT_PROJECTS=abc:OPS"), false, []string{"CHAT_PROJECTS: \"abc:OPS\": chat ID must be a number"}},
		{"bad duration", append(validEnv(), "COALESCE_WINDOW=soon"), false, []string{"COALESCE_WINDOW: "}},
		{"negative duration", append(validEnv(), "COALESCE_WINDOW=-1s"), false, []string{"COALESCE_WINDOW: must not be negative"}},
		{"bad users", append(validEnv(), "ALLOWED_USERS=12,bob", "ADMIN_USERS=x"), false, []string{"ALLOWED_USERS: \"bob\"", "ADMIN_USERS: \"x\""}},
		{"bad hashtags", append(validEnv(), "HASHTAG_TYPES=bug"), false, []string{"HASHTAG_TYPES: \"bug\" is not hashtag:IssueType"}},
		{"cert without key", append(validEnv(), "TLS_CERT_FILE=/c.pem"), false, []string{"TLS_CERT_FILE, TLS_KEY_FILE: set both or neither"}},
		{"domain with files", append(validEnv(), "TLS_DOMAIN=a.example", "TLS_CERT_FILE=/c", "TLS_KEY_FILE=/k"), false, []string{"TLS_DOMAIN: cannot be combined"}},
		{"domain alone", append(validEnv(), "TLS_DOMAIN=bot.example.com"), false, nil},
		{"domain with acme settings", append(validEnv(), "TLS_DOMAIN=bot.example.com", "ACME_EMAIL=ops@example.com", "ACME_DIRECTORY_URL=https://acme-staging-v02.api.letsencrypt.org/directory"), false, nil},
		{"domain is a url", append(validEnv(), "TLS_DOMAIN=https://bot.example.com"), false, []string{"TLS_DOMAIN: \"https://bot.example.com\" is not a domain name"}},
		{"domain with port", append(validEnv(), "TLS_DOMAIN=bot.example.com:443"), false, []string{"TLS_DOMAIN: "}},
		{"wildcard domain", append(validEnv(), "TLS_DOMAIN=*.example.com"), false, []string{"TLS_DOMAIN: "}},
		{"ip address as domain", append(validEnv(), "TLS_DOMAIN=192.0.2.1"), false, []string{"TLS_DOMAIN: "}},
		{"single label domain", append(validEnv(), "TLS_DOMAIN=localhost"), false, []string{"TLS_DOMAIN: "}},
		{"acme email without domain", append(validEnv(), "ACME_EMAIL=ops@example.com"), false, []string{"ACME_EMAIL, ACME_DIRECTORY_URL: only meaningful with TLS_DOMAIN"}},
		{"acme directory without domain", append(validEnv(), "ACME_DIRECTORY_URL=https://ca.example/dir"), false, []string{"ACME_EMAIL, ACME_DIRECTORY_URL: only meaningful with TLS_DOMAIN"}},
		{"bad acme email", append(validEnv(), "TLS_DOMAIN=bot.example.com", "ACME_EMAIL=Ops <ops@example.com>"), false, []string{"ACME_EMAIL: "}},
		{"acme directory over http", append(validEnv(), "TLS_DOMAIN=bot.example.com", "ACME_DIRECTORY_URL=http://ca.example/dir"), false, []string{"ACME_DIRECTORY_URL: \"http://ca.example/dir\" is not an absolute https URL"}},
		{"relative acme directory", append(validEnv(), "TLS_DOMAIN=bot.example.com", "ACME_DIRECTORY_URL=/directory"), false, []string{"ACME_DIRECTORY_URL: "}},
		{"bad logging", append(validEnv(), "LOG_LEVEL=loud", "LOG_FORMAT=xml"), false, []string{"LOG_LEVEL: \"loud\"", "LOG_FORMAT: \"xml\""}},
		{"both value and file", append(validEnv(), "JIRA_TOKEN_FILE=/nonexistent"), false, []string{"JIRA_TOKEN: set either JIRA_TOKEN or JIRA_TOKEN_FILE, not both"}},
		{"unreadable file", []string{"TELEGRAM_HOOK_TOKEN_FILE=/nonexistent/token"}, true, []string{"TELEGRAM_HOOK_TOKEN_FILE: cannot read /nonexistent/token: no such file or directory"}},
		{"secret key alone", append(validEnv(), "SECRET_KEY="+testSecretKey), false, nil},
		{"secret key not base64", append(validEnv(), "SECRET_KEY=not-base64-key!"), false, []string{"SECRET_KEY: not standard base64"}},
		{"secret key too short", append(validEnv(), "SECRET_KEY=c2hvcnQ="), false, []string{"SECRET_KEY: decodes to 5 bytes, want 32"}},
		{"oauth app", append(validEnv(), oauthEnv()...), false, nil},
		{"oauth app without secret key", append(validEnv(), "JIRA_OAUTH_CLIENT_ID=id", "JIRA_OAUTH_CLIENT_SECRET=oauth-secret"), false, []string{"JIRA_OAUTH_CLIENT_ID: needs SECRET_KEY"}},
		{"oauth client id without its secret", append(validEnv(), "JIRA_OAUTH_CLIENT_ID=id", "SECRET_KEY="+testSecretKey), false, []string{"JIRA_OAUTH_CLIENT_ID, JIRA_OAUTH_CLIENT_SECRET: set both or neither"}},
		{"oauth client secret without its id", append(validEnv(), "JIRA_OAUTH_CLIENT_SECRET=s"), false, []string{"JIRA_OAUTH_CLIENT_ID, JIRA_OAUTH_CLIENT_SECRET: set both or neither"}},
		{"oauth app in poll mode without public url", append([]string{"TELEGRAM_HOOK_TOKEN=1:a", "JIRA_SERVER=http://jira", "JIRA_TOKEN=x"}, oauthEnv()...), true, []string{"PUBLIC_URL: required with JIRA_OAUTH_CLIENT_ID when TELEGRAM_WEBHOOK_URL is not set"}},
		{"oauth app in poll mode with public url", append([]string{"TELEGRAM_HOOK_TOKEN=1:a", "JIRA_SERVER=http://jira", "JIRA_TOKEN=x", "PUBLIC_URL=https://bot.example.com"}, oauthEnv()...), true, nil},
		{"oauth app with a plain http webhook url", append(validEnv(), append(oauthEnv(), "TELEGRAM_WEBHOOK_URL=http://bot.example.com/webhook/telegram/")...), false, []string{"PUBLIC_URL: \"http://bot.example.com\" must be https (plain http only on a loopback host"}},
		{"oauth app on loopback over http", append(validEnv(), append(oauthEnv(), "PUBLIC_URL=http://127.0.0.1:8000")...), false, nil},
		{"plain http public url", append(validEnv(), "PUBLIC_URL=http://bot.example.com"), false, []string{"PUBLIC_URL: \"http://bot.example.com\" must be https"}},
		{"localhost public url", append(validEnv(), "PUBLIC_URL=http://localhost:8000/jtbot/"), false, nil},
		{"ipv6 loopback public url", append(validEnv(), "PUBLIC_URL=http://[::1]:8000"), false, nil},
		{"relative public url", append(validEnv(), "PUBLIC_URL=bot.example.com"), false, []string{"PUBLIC_URL: \"bot.example.com\" is not an absolute"}},
		{"public url with a query", append(validEnv(), "PUBLIC_URL=https://bot.example.com/?a=b"), false, []string{"PUBLIC_URL: \"https://bot.example.com/?a=b\" must not have a query"}},
		{"bad atlassian urls", append(validEnv(), "ATLASSIAN_AUTH_URL=auth", "ATLASSIAN_API_URL=ftp://api"), false, []string{"ATLASSIAN_AUTH_URL: ", "ATLASSIAN_API_URL: "}},
		{"secret key and its file", append(validEnv(), "SECRET_KEY="+testSecretKey, "SECRET_KEY_FILE=/nonexistent"), false, []string{"SECRET_KEY: set either SECRET_KEY or SECRET_KEY_FILE, not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.env, tt.poll)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: unexpected %v", err)
				}
				return
			}
			var problems Problems
			if !errors.As(err, &problems) {
				t.Fatalf("Load error = %v, want Problems", err)
			}
			for _, want := range tt.want {
				if !containsPrefix(problems, want) {
					t.Errorf("problems %q lack a line starting %q", problems, want)
				}
			}
		})
	}
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte("999:from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"TELEGRAM_HOOK_TOKEN_FILE=" + path, "JIRA_SERVER=http://jira", "JIRA_TOKEN=x"}
	cfg, err := Load(env, true)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.TelegramToken != "999:from-file" {
		t.Errorf("token = %q, want the file's content without the newline", cfg.TelegramToken)
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	cfg, err := Load(append(validEnv(), append(oauthEnv(), "TELEGRAM_WEBHOOK_SECRET=tg-secret")...), false)
	if err != nil {
		t.Fatal(err)
	}
	red := cfg.Redacted()
	all := ""
	for k, v := range red {
		all += k + "=" + v + "\n"
	}
	for _, secret := range []string{"test-token", "jira-secret-token", "jira-webhook-secret", "tg-secret", testSecretKey, "oauth-client-secret"} {
		if strings.Contains(all, secret) {
			t.Errorf("redacted form contains %q:\n%s", secret, all)
		}
	}
	if red["JIRA_TOKEN"] != "(set)" || red["SECRET_KEY"] != "(set)" || red["JIRA_OAUTH_CLIENT_SECRET"] != "(set)" ||
		red["JIRA_SERVER"] != "https://example.atlassian.net" || red["JIRA_OAUTH_CLIENT_ID"] != "client-id" {
		t.Errorf("redacted = %v", red)
	}
	if _, ok := red["CHAT_PROJECTS"]; !ok {
		t.Errorf("redacted lacks CHAT_PROJECTS")
	}
}

func TestParseChatProjectsAndUsers(t *testing.T) {
	m, err := ParseChatProjects(" -1001234567890:OPS , -1009876543210:WEB")
	if err != nil || m[-1001234567890] != "OPS" || m[-1009876543210] != "WEB" || len(m) != 2 {
		t.Fatalf("ParseChatProjects = %v, %v", m, err)
	}
	if _, err := ParseChatProjects("-1:OPS,-1:WEB"); err == nil {
		t.Errorf("a chat mapped twice must be refused")
	}
	u, err := ParseUsers("42,@Alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   int64
		name string
		want bool
	}{{42, "", true}, {7, "alice", true}, {7, "ALICE", true}, {7, "bob", false}, {7, "", false}} {
		if got := u.Contains(c.id, c.name); got != c.want {
			t.Errorf("Contains(%d,%q) = %v, want %v", c.id, c.name, got, c.want)
		}
	}
	all, _ := ParseUsers("*")
	if !all.Contains(1, "") {
		t.Errorf("* must contain everyone")
	}
	none, _ := ParseUsers("")
	if none.Contains(1, "x") {
		t.Errorf("empty must contain nobody")
	}
}

func TestPersonalAccountSettings(t *testing.T) {
	dir := t.TempDir()
	keyFile, secretFile := filepath.Join(dir, "key"), filepath.Join(dir, "oauth")
	os.WriteFile(keyFile, []byte(testSecretKey+"\n"), 0o600)
	os.WriteFile(secretFile, []byte("from-a-file\n"), 0o600)
	cfg, err := Load(append(validEnv(), "SECRET_KEY_FILE="+keyFile, "JIRA_OAUTH_CLIENT_SECRET_FILE="+secretFile,
		"JIRA_OAUTH_CLIENT_ID=client-id", "PUBLIC_URL=https://jtbot.example.org/base/",
		"ATLASSIAN_AUTH_URL=http://127.0.0.1:9/auth", "ATLASSIAN_API_URL=http://127.0.0.1:9/api"), false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SecretKey == nil || !cfg.PersonalAccounts() || !cfg.OAuth() {
		t.Errorf("SECRET_KEY from its file did not turn personal accounts on")
	}
	if cfg.JiraOAuthClientSecret != "from-a-file" {
		t.Errorf("JiraOAuthClientSecret = %q", cfg.JiraOAuthClientSecret)
	}
	if got := cfg.OAuthCallbackURL(); got != "https://jtbot.example.org/base/oauth/jira/callback" {
		t.Errorf("OAuthCallbackURL = %q", got)
	}
	if cfg.AtlassianAuthURL != "http://127.0.0.1:9/auth" || cfg.AtlassianAPIURL != "http://127.0.0.1:9/api" {
		t.Errorf("Atlassian URLs = %q, %q", cfg.AtlassianAuthURL, cfg.AtlassianAPIURL)
	}
}

// A bad SECRET_KEY is named, never shown.
func TestSecretKeyProblemHidesTheValue(t *testing.T) {
	const badKey = "c2hvcnQtYnV0LXNlY3JldA=="
	_, err := Load(append(validEnv(), "SECRET_KEY="+badKey), false)
	if err == nil || !strings.Contains(err.Error(), "SECRET_KEY: ") {
		t.Fatalf("Load = %v, want a SECRET_KEY problem", err)
	}
	if strings.Contains(err.Error(), badKey) || strings.Contains(err.Error(), "short-but-secret") {
		t.Errorf("the problem shows the key: %v", err)
	}
}
