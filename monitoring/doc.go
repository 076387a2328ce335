// Package monitoring owns what operators run beside jtbot: the Prometheus
// alerting rules (alerts.yml, with promtool unit tests in alerts_test.yml)
// and the Grafana dashboard (jtbot-dashboard.json). It holds no code; its
// tests check the rules with promtool and run both against a real
// Prometheus scraping jtbot's metrics registry. The root package's
// TestAlertsFireOnTheDaemon runs the rules against the daemon itself;
// both start Prometheus with monitoring/promtest.
package monitoring
