package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDBPathDefault(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    string
	}{
		{"plain", nil, "jtbot.db"},
		{"systemd StateDirectory", []string{"STATE_DIRECTORY=/var/lib/jtbot"}, "/var/lib/jtbot/jtbot.db"},
		{"several state directories: the first", []string{"STATE_DIRECTORY=/var/lib/jtbot:/var/lib/other"}, "/var/lib/jtbot/jtbot.db"},
		{"DB_PATH wins", []string{"STATE_DIRECTORY=/var/lib/jtbot", "DB_PATH=/srv/j.db"}, "/srv/j.db"},
		{"empty DB_PATH is unset", []string{"STATE_DIRECTORY=/var/lib/jtbot", "DB_PATH="}, "/var/lib/jtbot/jtbot.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DBPath(tt.environ); got != tt.want {
				t.Errorf("DBPath = %q, want %q", got, tt.want)
			}
			cfg, err := Load(append(validEnv(), tt.environ...), false)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DBPath != tt.want {
				t.Errorf("Load: DBPath = %q, want %q (one default for both)", cfg.DBPath, tt.want)
			}
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := Load(append(validEnv(), "TRUSTED_PROXIES=127.0.0.1/32, ::1/128,10.1.2.3/16,192.0.2.7"), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("192.0.2.7/32")}
	if !slices.Equal(cfg.TrustedProxies, want) {
		t.Errorf("TrustedProxies = %v, want %v", cfg.TrustedProxies, want)
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "0.0.0.0/0", "::/0", "fe80::1%eth0"} {
		_, err := Load(append(validEnv(), "TRUSTED_PROXIES="+bad), false)
		if err == nil || !strings.HasPrefix(err.Error(), "TRUSTED_PROXIES: ") {
			t.Errorf("TRUSTED_PROXIES=%s: %v, want a line naming TRUSTED_PROXIES", bad, err)
		}
	}
}

func TestMetricsTokenIsASecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("metrics-secret\n"), 0o600)
	cfg, err := Load(append(validEnv(), "METRICS_TOKEN_FILE="+file), false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsToken != "metrics-secret" {
		t.Errorf("MetricsToken = %q", cfg.MetricsToken)
	}
	if got := cfg.Redacted()["METRICS_TOKEN"]; got != "(set)" {
		t.Errorf("redacted METRICS_TOKEN = %q", got)
	}
}

func TestParseAdminIDs(t *testing.T) {
	u, err := ParseAdminIDs("12, 345")
	if err != nil || !u.IDs[12] || !u.IDs[345] || u.Everyone || len(u.Usernames) != 0 {
		t.Errorf("ParseAdminIDs = %+v, %v", u, err)
	}
	for _, bad := range []string{"@alice", "*", "12,bob"} {
		if _, err := ParseAdminIDs(bad); err == nil || !strings.Contains(err.Error(), "numeric Telegram user ID") {
			t.Errorf("ParseAdminIDs(%q) = %v", bad, err)
		}
	}
}
