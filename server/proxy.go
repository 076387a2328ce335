package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose X-Forwarded-For is believed.
type Proxies []netip.Prefix

func (p Proxies) contains(a netip.Addr) bool {
	for _, prefix := range p {
		if prefix.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr is the address a request comes from: the TCP peer, or, when
// the peer is a trusted proxy, the right-most X-Forwarded-For entry that
// is not itself a trusted proxy. Entries left of that one are the client's
// own claims and are ignored. When the chain runs out (or holds garbage)
// before an untrusted entry, the last trusted hop is the answer: a proxy
// that forwards without appending costs precision, never safety.
// The zero Addr means the peer address could not be parsed.
func (p Proxies) ClientAddr(r *http.Request) netip.Addr {
	client := peerAddr(r)
	if !client.IsValid() || !p.contains(client) {
		return client
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		client = hop
		if !p.contains(hop) {
			return client
		}
	}
	return client
}

// peerAddr is the TCP peer's address, 4in6 unmapped, without a zone.
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// forwardedFor is every X-Forwarded-For entry, over all the header's
// lines, left to right.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop reads an address as proxies write it: bare, or with a port
// ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// forwarded reports whether a request says it passed through a proxy.
func forwarded(h http.Header) bool {
	for _, name := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if _, ok := h[name]; ok {
			return true
		}
	}
	return false
}
