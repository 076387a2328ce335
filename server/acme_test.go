package server

import "testing"

func TestChallengeAddr(t *testing.T) {
	tests := []struct{ name, listen, want string }{
		{"all interfaces on 443", ":443", ":80"},
		{"one address on 443", "192.0.2.7:443", "192.0.2.7:80"},
		{"ipv6 on 443", "[::1]:443", "[::1]:80"},
		{"named port", ":https", ":80"},
		{"8443: no HTTP-01", ":8443", ""},
		{"malformed", "443", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChallengeAddr(tt.listen); got != tt.want {
				t.Errorf("challengeAddr(%q) = %q, want %q", tt.listen, got, tt.want)
			}
		})
	}
}
