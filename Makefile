# berth: build, test, demo. Everything runs offline.
GO      ?= go
BIN     := bin/berth
KUBE    := bin/berth-kube
GITOPS  := bin/berth-gitops
RUNTIME := bin/berth-runtime
INIT    := bin/berth-init
IDLE    := bin/berth-idle
CC      ?= cc
EXAMPLE := examples/hello

.PHONY: build deps test unit demo bench install clean

# Seccomp filters need libseccomp (cgo) and the seccomp build tag; without
# it berth builds and runs, but containers get no seccomp filter. Decided
# when a recipe runs (=, not :=), so that `make demo` and `make test` on a
# fresh machine build with it once `deps` has installed it.
TAGS = $(shell pkg-config --exists libseccomp 2>/dev/null && echo seccomp)
SECCOMP_CHECK = @[ -n "$(TAGS)" ] || echo "warning: libseccomp not found (apt-get install libseccomp-dev, or make deps): building berth WITHOUT seccomp; containers will run without Docker's default seccomp profile" >&2

build: $(BIN) $(KUBE) $(GITOPS) $(RUNTIME) $(INIT) $(IDLE)

# berth and berth-runtime are linked statically where glibc's and
# libseccomp's static libraries are installed (Debian's libc6-dev and
# libseccomp-dev ship them): no dynamic loader to run, and no libc and
# libseccomp to map and relocate, at each start of a command, shim or
# init (about 0.5 ms of CPU for each shim and init; `berth version`
# 21.5 -> 19.0 ms, a no-op `up -d` of 10 32.6 -> 29.8 ms, interleaved
# medians). With the
# pure-Go user and DNS look-ups (osusergo, netgo) and SQLite without
# extension loading, nothing in them needs glibc's shared NSS modules or
# dlopen. The seccomp cache then tells libseccomp builds apart by the
# binary's build ID (internal/seccache), which Go derives from its build
# inputs and flags but not from the archives linked in: a short SHA-256
# of libseccomp.a and libc.a goes in with -X (seccache.linkedLibs), and
# the archives are prerequisites, so that an upgraded libseccomp relinks
# and never takes the filters the old one compiled. e2e/helpers_test.go
# builds both for the tests with these rules (make BIN=PATH PATH).
STATIC_TAGS = $(TAGS) osusergo netgo sqlite_omit_load_extension
LIBC_A = $(shell $(CC) -print-file-name=libc.a)
LIBSECCOMP_A = $(shell pkg-config --variable=libdir libseccomp 2>/dev/null)/libseccomp.a
STATIC_SECCOMP = $(filter seccomp,$(TAGS))
STATIC_ARCHIVES = $(LIBC_A) $(if $(STATIC_SECCOMP),$(LIBSECCOMP_A))
STATIC = $(shell [ -f "$(LIBC_A)" ] && { [ -z "$(STATIC_SECCOMP)" ] || [ -f "$(LIBSECCOMP_A)" ]; } && echo yes)
STATIC_LDFLAGS = $(if $(STATIC),-extldflags=-static -X github.com/berth-dev/berth/internal/seccache.linkedLibs=$(shell cat $(STATIC_ARCHIVES) | sha256sum | cut -c1-16))

# What the Go programs are built from: Go, and the C of the cgo packages
# (internal/sysmonslack, internal/hugeheap, internal/seccache).
GO_SOURCES = $(shell find . \( -name '*.go' -o -name '*.c' -o -name '*.h' \) -not -path './bin/*' -not -path './cmd/berth-idle/*')

$(BIN): $(GO_SOURCES) go.mod go.sum $(wildcard $(STATIC_ARCHIVES))
	$(SECCOMP_CHECK)
	$(GO) build -tags "$(STATIC_TAGS)" -ldflags "$(STATIC_LDFLAGS)" -o $(BIN) ./cmd/berth

# berth with client-go: the Kubernetes forms of the commands (kube render,
# plan/up/down/ps/reconcile --kube), which berth execs, found beside it (or
# at BERTH_KUBE, or in PATH), so that client-go slows no other command.
$(KUBE): $(GO_SOURCES) go.mod go.sum
	$(SECCOMP_CHECK)
	$(GO) build -tags "$(TAGS)" -o $(KUBE) ./cmd/berth-kube

# berth with go-git and the Prometheus client: reconcile --git and
# --metrics, which berth execs, found beside it (or at BERTH_GITOPS, or in
# PATH), so that neither slows any other command (about 4 ms of package
# init at every start).
$(GITOPS): $(GO_SOURCES) go.mod go.sum
	$(SECCOMP_CHECK)
	$(GO) build -tags "$(TAGS)" -o $(GITOPS) ./cmd/berth-gitops

# The shim and container init, small so that each container starts fast;
# berth finds it beside itself (or at BERTH_RUNTIME).
# Built with Go's second encoding/json implementation where the toolchain
# has it (GOEXPERIMENT=jsonv2): encoding/json keeps its behaviour, but
# builds a type's encoder, and decodes, in about half the CPU. Each shim
# and init is a fresh process that encodes libcontainer's config and state
# and the spec once, so each container start pays for those encoders
# (issue 15; perf over interleaved cold ups of 50: 4.6 -> 3.9 ms of JSON
# per container). Linked statically as berth is (see there).
RUNTIME_EXPERIMENT = $(shell GOEXPERIMENT=jsonv2 $(GO) env GOEXPERIMENT >/dev/null 2>&1 && echo jsonv2)
$(RUNTIME): $(GO_SOURCES) go.mod go.sum $(wildcard $(STATIC_ARCHIVES))
	GOEXPERIMENT=$(RUNTIME_EXPERIMENT) $(GO) build -tags "$(STATIC_TAGS)" -ldflags "$(STATIC_LDFLAGS)" -o $(RUNTIME) ./cmd/berth-runtime

# The init of services with `init: true`, mounted into their containers:
# static, so that it runs in any image.
$(INIT): $(shell find ./cmd/berth-init -name '*.go') go.mod go.sum
	CGO_ENABLED=0 $(GO) build -o $(INIT) ./cmd/berth-init

# A container's shim while nothing needs it (see runtime/shimidle_linux.go):
# C, static, so that each idle container costs kilobytes; found beside
# berth-runtime (or at BERTH_IDLE).
# Linked with musl (musl-gcc, Debian's musl-tools) where it is installed:
# a static glibc's start-up dirties ~40 kB per process and maps a heap;
# musl's costs a few kB. Keep in step with internal/testutil/idle.go,
# which builds it for the tests.
IDLE_CC ?= $(shell command -v musl-gcc || echo $(CC))
$(IDLE): cmd/berth-idle/main.c
	$(IDLE_CC) -static -Os -Wall -Wextra -o $(IDLE) cmd/berth-idle/main.c

# The whole suite. Integration tests need root; under CI=true they fail
# rather than skip when they cannot run.
test: deps build
	$(GO) vet -tags "$(TAGS)" ./...
	$(GO) test -tags "$(TAGS)" -count=1 -run '^$$' ./... >/dev/null  # compile every test binary, in parallel
	$(GO) test -tags "$(TAGS)" -count=1 -p 1 -timeout 30m ./...     # one package at a time: each test's leak check sees only its own objects

# Unit tests only: no root, no kernel objects.
unit:
	$(GO) test -count=1 -short ./spec/... ./reconcile/... ./store/... ./volume/...

# Run the hello example for real: build its images offline, import them,
# bring the stack up, call it, show it, and take it down again.
demo: deps build
	$(EXAMPLE)/demo.sh $(abspath $(BIN))

# The Debian packages the demo and the tests use (idempotent).
deps:
	scripts/deps.sh

bench: build
	bench/up.sh $(abspath $(BIN))
	bench/exec.sh $(abspath $(BIN))
	bench/seccomp.sh $(abspath $(BIN))

# berth, berth-kube, berth-gitops, its runtime and init into $(PREFIX)/bin, and the systemd units
# (berth-boot.service: see README; berth-reconcile@.service: see
# docs/gitops.md) into $(UNITDIR).
PREFIX  ?= /usr/local
UNITDIR ?= /etc/systemd/system
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)/etc/berth/reconcile
	install -m 0755 $(BIN) $(KUBE) $(GITOPS) $(RUNTIME) $(INIT) $(IDLE) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 contrib/systemd/*.service $(DESTDIR)$(UNITDIR)/
	chmod 0700 $(DESTDIR)/etc/berth/reconcile

clean:
	rm -rf bin $(EXAMPLE)/build
