VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

PREFIX  ?= /usr/local
DESTDIR ?=

FUZZTIME ?= 1m

SOAKTIME ?= 3m
# SOAKLAG=2s: the fake Jira's search lags like Jira Cloud's.
SOAKLAG ?= 0s

.PHONY: build run test demo lint install bench soak fuzz clean

build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o jtbot .

run: build
	./jtbot -poll

test:
	go vet ./...
	go test -race -count=1 ./...

# The offline demo: fake Telegram and fake Jira in one process, the real
# daemon (this build) against them, and a transcript of what happened.
demo: build
	go run ./demo -bin ./jtbot

# Go benchmarks of the hot paths, each beside the limit it is compared with
# (raw bbolt writes for the durable queue; decoding an event for routing it
# over 1,000 subscriptions).
bench: build
	go test -run '^$$' -bench . -benchmem -benchtime 2s ./storage ./jira ./markup ./route | grep -E '^(Benchmark|ok|goos|goarch|cpu)' | tee .gobench.txt
	go run ./bench -bin ./jtbot -out BENCHMARKS.md -gobench .gobench.txt
	rm -f .gobench.txt

# Mixed load both ways with a fault schedule against the real daemon; fails
# on any lost or doubled item, dead letter, goroutine leak or RSS over 80 MB.
soak: build
	go run ./bench -bin ./jtbot -soak $(SOAKTIME) -search-lag $(SOAKLAG)

# Every fuzz target for FUZZTIME each; seeds are the committed fixtures and
# testdata/fuzz corpora.
fuzz:
	@for pkg in ./jira ./markup ./bot; do \
		for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
		done; \
	done

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

# Installs the binary and the unit; the environment file only when there is
# none, so an upgrade never overwrites settings.
install:
	@test -x jtbot || { echo "no ./jtbot: run make build first (as yourself, not root)"; exit 1; }
	install -D -m 0755 jtbot $(DESTDIR)$(PREFIX)/bin/jtbot
	install -D -m 0644 systemd/jtbot.service $(DESTDIR)/etc/systemd/system/jtbot.service
	install -d -m 0700 $(DESTDIR)/etc/jtbot
	@if [ -e $(DESTDIR)/etc/jtbot/jtbot.env ]; then \
		echo "kept $(DESTDIR)/etc/jtbot/jtbot.env"; \
	else \
		install -m 0600 systemd/jtbot.env.example $(DESTDIR)/etc/jtbot/jtbot.env; \
		echo "wrote $(DESTDIR)/etc/jtbot/jtbot.env: edit it, then: systemctl enable --now jtbot"; \
	fi
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null; then systemctl daemon-reload; fi

clean:
	rm -f jtbot
