VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build run test demo lint bench fuzz clean

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

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

clean:
	rm -f jtbot
