package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := Proxies{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.1.0.0/16")}
	tests := []struct {
		name    string
		proxies Proxies
		peer    string
		xff     []string // header lines
		want    string
	}{
		{"direct, no proxies configured", nil, "198.51.100.7:5000", nil, "198.51.100.7"},
		{"forwarded header ignored without trusted proxies", nil, "127.0.0.1:5000", []string{"203.0.113.9"}, "127.0.0.1"},
		{"untrusted peer's header ignored", proxies, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"trusted proxy, one hop", proxies, "127.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"forged entries on the left ignored", proxies, "127.0.0.1:5000", []string{"1.2.3.4, 5.6.7.8, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", proxies, "127.0.0.1:5000", []string{"203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"several header lines", proxies, "127.0.0.1:5000", []string{"1.2.3.4", "203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"trusted proxy without header", proxies, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"only trusted hops", proxies, "127.0.0.1:5000", []string{"10.1.9.9"}, "10.1.9.9"},
		{"garbage stops at the last trusted hop", proxies, "127.0.0.1:5000", []string{"203.0.113.9, nonsense, 10.1.2.3"}, "10.1.2.3"},
		{"empty entry", proxies, "127.0.0.1:5000", []string{""}, "127.0.0.1"},
		{"entry with a port", proxies, "127.0.0.1:5000", []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6 entry with a port", proxies, "[::1]:5000", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv6 entry in brackets", proxies, "[::1]:5000", []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"IPv4-mapped peer", proxies, "[::ffff:127.0.0.1]:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv4-mapped entry", proxies, "127.0.0.1:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"unparseable peer", proxies, "pipe", []string{"203.0.113.9"}, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, line := range tt.xff {
				r.Header.Add("X-Forwarded-For", line)
			}
			if got := tt.proxies.ClientAddr(r).String(); got != tt.want {
				t.Errorf("ClientAddr = %s, want %s", got, tt.want)
			}
		})
	}
}
