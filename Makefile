# snaptool: see README.md. Targets a newcomer can guess.
GO       ?= go
BIN      := bin/snaptool
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo ", modified")
LDFLAGS  := -X main.version=$(VERSION) -X 'main.commit=$(COMMIT)'
FUZZTIME ?= 30s
FIX      := fixtures/consul-1.13.9

.PHONY: all build test demo bench fuzz golden fixtures interop lint clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/snaptool

# The whole test suite: unit, golden, CLI (real binary), sweep, secrets audit,
# browser. `go test -short ./...` is the quick loop (seconds): it leaves out
# the damage sweep, the browser test and most record mutants, which run here.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The main job on shipped real fixtures.
demo: build
	@bash scripts/demo.sh

# The packages whose tests compare with golden files: only their test
# binaries define -update (internal/golden), so `go test ./... -update`
# fails elsewhere. TestMakeGolden keeps this list complete.
GOLDEN_PKGS := ./cmd/snaptool ./decode ./preflight ./report

# Refresh golden files from the current code (review the diff!).
golden:
	$(GO) test -count=1 $(GOLDEN_PKGS) -update

# Regenerate the real-Consul fixtures (builds each pinned Consul first, one at a time):
# the before/after sets fixtures/consul-{1.13.9,1.14.11,1.12.9}/, the raft log
# (fixtures/consul-*/raftlog/) and the series (fixtures/consul-1.13.9/series/).
# FIXTURES="1.14.11 raftlog" regenerates only those targets.
FIXTURES ?=
fixtures:
	bash fixtures/make-fixtures.sh $(FIXTURES)

# Interop with the real Consul: restore, inspect, kv import/export, rewrite, and the
# restore matrix of preflight's predictions against Consul 1.12.9, 1.13.9 and 1.14.11.
interop: build
	bash scripts/interop.sh

# Speed and memory against the floor and against consul snapshot inspect.
bench: build
	bash scripts/bench.sh

# Each fuzz target in turn for FUZZTIME.
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

clean:
	rm -rf bin
