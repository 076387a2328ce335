// Package server owns the one listener and its mechanisms: the HTTP server
// with its timeouts, per-address limits, client addresses behind trusted
// proxies, access to /metrics, /healthz, TLS from files or ACME, systemd
// notification and the control socket (both ends). It mounts the handlers
// it is given; it imports no behaviour.
package server
