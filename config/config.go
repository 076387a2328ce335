// Package config owns jtbot's settings: it reads them from the environment
// (secrets also from NAME_FILE), applies the defaults of the design contract,
// and validates them, naming the variable in every problem it reports.
package config

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v10"

	"github.com/jtbot/jtbot/secret"
)

// Config is the whole of jtbot's settings, parsed once at start.
type Config struct {
	TelegramToken         string        `env:"TELEGRAM_HOOK_TOKEN" secret:"true"`
	TelegramWebhookURL    string        `env:"TELEGRAM_WEBHOOK_URL"`
	TelegramWebhookSecret string        `env:"TELEGRAM_WEBHOOK_SECRET" secret:"true"`
	TelegramAPIURL        string        `env:"TELEGRAM_API_URL" envDefault:"https://api.telegram.org"`
	JiraServer            string        `env:"JIRA_SERVER"`
	JiraUser              string        `env:"JIRA_USER"`
	JiraToken             string        `env:"JIRA_TOKEN" secret:"true"`
	JiraWebhookSecret     string        `env:"JIRA_WEBHOOK_SECRET" secret:"true"`
	ChatProjectsRaw       string        `env:"CHAT_PROJECTS"`
	JiraProject           string        `env:"JIRA_PROJECT"`
	JiraIssueType         string        `env:"JIRA_ISSUE_TYPE" envDefault:"Task"`
	HashtagTypesRaw       string        `env:"HASHTAG_TYPES" envDefault:"bug:Bug"`
	AllowedUsersRaw       string        `env:"ALLOWED_USERS"`
	AdminUsersRaw         string        `env:"ADMIN_USERS"`
	CoalesceWindow        time.Duration `env:"COALESCE_WINDOW" envDefault:"2s"`
	RetryBudget           time.Duration `env:"RETRY_BUDGET" envDefault:"24h"`
	JiraSearchSettle      time.Duration `env:"JIRA_SEARCH_SETTLE" envDefault:"5m"`
	ListenAddr            string        `env:"LISTEN_ADDR" envDefault:":8000"`
	TLSCertFile           string        `env:"TLS_CERT_FILE"`
	TLSKeyFile            string        `env:"TLS_KEY_FILE"`
	TLSDomain             string        `env:"TLS_DOMAIN"`
	ACMEEmail             string        `env:"ACME_EMAIL"`
	ACMEDirectoryURL      string        `env:"ACME_DIRECTORY_URL"`
	TrustedProxiesRaw     string        `env:"TRUSTED_PROXIES"`
	MetricsToken          string        `env:"METRICS_TOKEN" secret:"true"`
	PublicURL             string        `env:"PUBLIC_URL"` // as set; PublicBase has the default
	JiraOAuthClientID     string        `env:"JIRA_OAUTH_CLIENT_ID"`
	JiraOAuthClientSecret string        `env:"JIRA_OAUTH_CLIENT_SECRET" secret:"true"`
	AtlassianAuthURL      string        `env:"ATLASSIAN_AUTH_URL" envDefault:"https://auth.atlassian.com"`
	AtlassianAPIURL       string        `env:"ATLASSIAN_API_URL" envDefault:"https://api.atlassian.com"`
	SecretKeyRaw          string        `env:"SECRET_KEY" secret:"true"`
	DBPath                string        `env:"DB_PATH"`
	LogLevel              string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat             string        `env:"LOG_FORMAT" envDefault:"text"`

	// Poll is the -poll flag: long polling instead of the Telegram webhook.
	Poll bool `env:"-"`

	// Parsed forms of the raw lists above.
	ChatProjects map[int64]string  `env:"-"`
	HashtagTypes map[string]string `env:"-"`
	AllowedUsers Users             `env:"-"`
	AdminUsers   Users             `env:"-"`
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix `env:"-"`
	// SecretKey is SECRET_KEY parsed; nil: personal Jira accounts are off.
	SecretKey *secret.Key `env:"-"`
}

// Problems is every configuration problem found, one per line.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Load reads the configuration from environ (os.Environ's form) and
// validates it. The error, when not nil, is Problems.
func Load(environ []string, poll bool) (*Config, error) {
	vars := toMap(environ)
	var problems Problems
	problems = append(problems, resolveFiles(vars)...)

	cfg := &Config{Poll: poll}
	if err := env.ParseWithOptions(cfg, env.Options{Environment: vars}); err != nil {
		problems = append(problems, parseProblems(err)...)
	}
	if cfg.DBPath == "" {
		cfg.DBPath = defaultDBPath(vars)
	}
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, problems
	}
	if cfg.TelegramWebhookSecret == "" {
		cfg.TelegramWebhookSecret = DeriveWebhookSecret(cfg.TelegramToken)
	}
	return cfg, nil
}

// DeriveWebhookSecret makes the Telegram secret_token from the bot token, so
// a user who sets no secret still gets an authenticated webhook. It is a
// one-way hash: the secret seen in a request header reveals nothing of the token.
func DeriveWebhookSecret(token string) string {
	sum := sha256.Sum256([]byte("jtbot telegram webhook secret\x00" + token))
	return hex.EncodeToString(sum[:])
}

// DBPath is DB_PATH from environ, or its default: $STATE_DIRECTORY/jtbot.db
// under systemd (StateDirectory= sets STATE_DIRECTORY), else jtbot.db in the
// working directory. The operator's commands that need nothing but the
// database use it without loading the whole configuration.
func DBPath(environ []string) string {
	vars := toMap(environ)
	if p := vars["DB_PATH"]; p != "" {
		return p
	}
	return defaultDBPath(vars)
}

func defaultDBPath(vars map[string]string) string {
	if dirs := StateDirectories(vars["STATE_DIRECTORY"]); len(dirs) > 0 {
		return filepath.Join(dirs[0], "jtbot.db")
	}
	return "jtbot.db"
}

// StateDirectories splits STATE_DIRECTORY: systemd joins several with ":".
func StateDirectories(raw string) []string {
	var dirs []string
	for _, d := range strings.Split(raw, ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func toMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// secretNames lists the variables that may be given as NAME_FILE.
func secretNames() []string {
	var names []string
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Tag.Get("secret") == "true" {
			names = append(names, envName(f))
		}
	}
	return names
}

// resolveFiles replaces NAME_FILE by the file's content under NAME.
func resolveFiles(vars map[string]string) Problems {
	var problems Problems
	for _, name := range secretNames() {
		path, ok := vars[name+"_FILE"]
		if !ok || path == "" {
			continue
		}
		if vars[name] != "" {
			problems = append(problems, fmt.Sprintf("%s: set either %s or %s_FILE, not both", name, name, name))
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s_FILE: cannot read %s: %v", name, path, unwrapPathError(err)))
			continue
		}
		vars[name] = strings.TrimRight(string(data), "\r\n")
	}
	return problems
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func envName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return name
}

// parseProblems turns env's errors, which name struct fields, into lines
// that name the variables a user actually sets.
func parseProblems(err error) Problems {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return Problems{err.Error()}
	}
	var problems Problems
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			f, _ := reflect.TypeOf(Config{}).FieldByName(pe.Name)
			problems = append(problems, fmt.Sprintf("%s: %v", envName(f), plainParseError(pe.Err)))
			continue
		}
		problems = append(problems, e.Error())
	}
	return problems
}

func plainParseError(err error) string {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return fmt.Sprintf("%q is not a valid value", ne.Num)
	}
	return err.Error()
}

var (
	botTokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	projectPattern  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,49}$`)
	// A name a CA can issue for over HTTP-01 or TLS-ALPN-01: at least two
	// labels, no wildcard, not an IP address (the last label has a letter).
	domainPattern = regexp.MustCompile(`^(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]*[a-z][a-z0-9-]*$`)
)

func (c *Config) validate() Problems {
	var p Problems
	add := func(name, format string, args ...any) {
		p = append(p, name+": "+fmt.Sprintf(format, args...))
	}
	switch {
	case c.TelegramToken == "":
		add("TELEGRAM_HOOK_TOKEN", "required (the bot token from @BotFather)")
	case !botTokenPattern.MatchString(c.TelegramToken):
		add("TELEGRAM_HOOK_TOKEN", "not a bot token (expected digits, a colon, then letters, digits, _ or -)")
	}
	if c.TelegramWebhookURL == "" && !c.Poll {
		add("TELEGRAM_WEBHOOK_URL", "required without -poll")
	}
	if c.TelegramWebhookURL != "" {
		checkURL(add, "TELEGRAM_WEBHOOK_URL", c.TelegramWebhookURL)
	}
	if c.TelegramWebhookSecret != "" && !secretPattern.MatchString(c.TelegramWebhookSecret) {
		add("TELEGRAM_WEBHOOK_SECRET", "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
	}
	checkURL(add, "TELEGRAM_API_URL", c.TelegramAPIURL)
	if c.JiraServer == "" {
		add("JIRA_SERVER", "required (your Jira base URL, e.g. https://example.atlassian.net)")
	} else {
		checkURL(add, "JIRA_SERVER", c.JiraServer)
	}
	if c.JiraToken == "" {
		add("JIRA_TOKEN", "required (a Cloud API token with JIRA_USER, or a Data Center personal access token)")
	}
	if c.JiraWebhookSecret == "" && !c.Poll {
		add("JIRA_WEBHOOK_SECRET", "required without -poll")
	}
	if c.JiraProject != "" && !projectPattern.MatchString(c.JiraProject) {
		add("JIRA_PROJECT", "%q is not a Jira project key", c.JiraProject)
	}
	if strings.TrimSpace(c.JiraIssueType) == "" {
		add("JIRA_ISSUE_TYPE", "must not be empty")
	}
	if c.JiraSearchSettle < 0 {
		p = append(p, "JIRA_SEARCH_SETTLE: must not be negative")
	}
	if c.RetryBudget <= 0 {
		p = append(p, "RETRY_BUDGET: must be a positive duration, e.g. 24h")
	}
	if c.CoalesceWindow < 0 {
		add("COALESCE_WINDOW", "must not be negative")
	}
	if c.ListenAddr == "" {
		add("LISTEN_ADDR", "must not be empty")
	}
	p = append(p, c.parseLists()...)
	p = append(p, c.validatePersonalAccounts()...)
	p = append(p, c.validateTLS()...)
	p = append(p, c.validateLogging()...)
	return p
}

func checkURL(add func(string, string, ...any), name, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add(name, "%q is not an absolute http(s) URL", raw)
	}
}

func (c *Config) parseLists() Problems {
	var p Problems
	var err error
	if c.ChatProjects, err = ParseChatProjects(c.ChatProjectsRaw); err != nil {
		p = append(p, "CHAT_PROJECTS: "+err.Error())
	}
	if c.HashtagTypes, err = parseHashtagTypes(c.HashtagTypesRaw); err != nil {
		p = append(p, "HASHTAG_TYPES: "+err.Error())
	}
	if c.AllowedUsers, err = ParseUsers(c.AllowedUsersRaw); err != nil {
		p = append(p, "ALLOWED_USERS: "+err.Error())
	}
	if c.AdminUsers, err = ParseAdminIDs(c.AdminUsersRaw); err != nil {
		p = append(p, "ADMIN_USERS: "+err.Error())
	}
	if c.TrustedProxies, err = ParseProxies(c.TrustedProxiesRaw); err != nil {
		p = append(p, "TRUSTED_PROXIES: "+err.Error())
	}
	return p
}

// validatePersonalAccounts checks the settings of DESIGN §8. An OAuth app
// needs SECRET_KEY (its tokens are stored sealed) and a public callback
// URL; neither is ever guessed.
func (c *Config) validatePersonalAccounts() Problems {
	var p Problems
	add := func(name, format string, args ...any) {
		p = append(p, name+": "+fmt.Sprintf(format, args...))
	}
	if c.SecretKeyRaw != "" {
		var err error
		if c.SecretKey, err = secret.ParseKey(c.SecretKeyRaw); err != nil {
			add("SECRET_KEY", "%v", err) // the error never holds the value
		}
	}
	checkURL(add, "ATLASSIAN_AUTH_URL", c.AtlassianAuthURL)
	checkURL(add, "ATLASSIAN_API_URL", c.AtlassianAPIURL)
	if c.PublicURL != "" {
		checkPublicURL(add, c.PublicURL, "")
	}
	if (c.JiraOAuthClientID == "") != (c.JiraOAuthClientSecret == "") {
		add("JIRA_OAUTH_CLIENT_ID, JIRA_OAUTH_CLIENT_SECRET", "set both or neither (an OAuth 2.0 app has both)")
	}
	if c.JiraOAuthClientID == "" {
		return p
	}
	if c.SecretKeyRaw == "" {
		add("JIRA_OAUTH_CLIENT_ID", "needs SECRET_KEY, which encrypts the users' Jira tokens (make one with: openssl rand -base64 32)")
	}
	switch {
	case c.PublicURL != "":
	case c.TelegramWebhookURL == "":
		add("PUBLIC_URL", "required with JIRA_OAUTH_CLIENT_ID when TELEGRAM_WEBHOOK_URL is not set (-poll): the OAuth callback needs jtbot's public URL")
	default:
		checkPublicURL(add, c.PublicBase(), " (derived from TELEGRAM_WEBHOOK_URL; set PUBLIC_URL)")
	}
	return p
}

// checkPublicURL wants https: the OAuth callback carries authorization
// codes. Plain http is allowed on loopback only, for development.
func checkPublicURL(add func(string, string, ...any), raw, hint string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		add("PUBLIC_URL", "%q is not an absolute http(s) URL%s", raw, hint)
	case u.RawQuery != "" || u.Fragment != "":
		add("PUBLIC_URL", "%q must not have a query or fragment%s", raw, hint)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		add("PUBLIC_URL", "%q must be https (plain http only on a loopback host: localhost, 127.0.0.1, ::1)%s", raw, hint)
	}
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// PublicBase is jtbot's public base URL without a trailing slash:
// PUBLIC_URL, else the scheme and host of TELEGRAM_WEBHOOK_URL (read now,
// so an embedding test that sets the webhook URL late is followed).
func (c *Config) PublicBase() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	u, err := url.Parse(c.TelegramWebhookURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// OAuthCallbackURL is the redirect URI to register with the OAuth app.
func (c *Config) OAuthCallbackURL() string {
	return c.PublicBase() + "/oauth/jira/callback"
}

// PersonalAccounts reports whether users may connect their own Jira
// accounts: only with SECRET_KEY to seal their tokens.
func (c *Config) PersonalAccounts() bool { return c.SecretKey != nil }

// OAuth reports whether /connect signs users in over OAuth 2.0.
func (c *Config) OAuth() bool { return c.JiraOAuthClientID != "" && c.SecretKey != nil }

// validateTLS checks that HTTPS settings are whole and consistent and the
// files load: a half-set HTTPS setup is refused rather than silently
// serving plain HTTP to someone who asked for HTTPS.
func (c *Config) validateTLS() Problems {
	var p Problems
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		p = append(p, "TLS_CERT_FILE, TLS_KEY_FILE: set both or neither")
	}
	if c.TLSDomain != "" && (c.TLSCertFile != "" || c.TLSKeyFile != "") {
		p = append(p, "TLS_DOMAIN: cannot be combined with TLS_CERT_FILE/TLS_KEY_FILE")
	}
	if c.TLSDomain != "" && !domainPattern.MatchString(c.TLSDomain) {
		p = append(p, fmt.Sprintf("TLS_DOMAIN: %q is not a domain name such as bot.example.com (no scheme, port or wildcard)", c.TLSDomain))
	}
	if c.ACMEEmail != "" {
		if a, err := mail.ParseAddress(c.ACMEEmail); err != nil || a.Address != c.ACMEEmail {
			p = append(p, fmt.Sprintf("ACME_EMAIL: %q is not an e-mail address", c.ACMEEmail))
		}
	}
	if c.ACMEDirectoryURL != "" {
		if u, err := url.Parse(c.ACMEDirectoryURL); err != nil || u.Scheme != "https" || u.Host == "" {
			p = append(p, fmt.Sprintf("ACME_DIRECTORY_URL: %q is not an absolute https URL", c.ACMEDirectoryURL))
		}
	}
	if c.TLSCertFile != "" && c.TLSKeyFile != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile); err != nil {
			p = append(p, "TLS_CERT_FILE, TLS_KEY_FILE: "+err.Error())
		}
	}
	if (c.ACMEEmail != "" || c.ACMEDirectoryURL != "") && c.TLSDomain == "" {
		p = append(p, "ACME_EMAIL, ACME_DIRECTORY_URL: only meaningful with TLS_DOMAIN")
	}
	return p
}

func (c *Config) validateLogging() Problems {
	var p Problems
	switch c.LogLevel {
	case "panic", "fatal", "error", "warn", "warning", "info", "debug", "trace":
	default:
		p = append(p, fmt.Sprintf("LOG_LEVEL: %q is not one of error, warn, info, debug, trace", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p = append(p, fmt.Sprintf("LOG_FORMAT: %q is not text or json", c.LogFormat))
	}
	return p
}

// TLS reports whether the listener serves HTTPS from files.
func (c *Config) TLS() bool { return c.TLSCertFile != "" }

// Redacted lists every setting as NAME → value for a start-up log line, with
// secrets replaced by whether they are set.
func (c *Config) Redacted() map[string]string {
	out := make(map[string]string)
	v := reflect.ValueOf(*c)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := envName(f)
		if name == "" || name == "-" {
			continue
		}
		value := fmt.Sprint(v.Field(i).Interface())
		if f.Tag.Get("secret") == "true" {
			value = redact(value)
		}
		out[name] = value
	}
	return out
}

func redact(value string) string {
	if value == "" {
		return "(unset)"
	}
	return "(set)"
}
