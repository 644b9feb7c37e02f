# Build, run and test the aadhostlogincorrelation processor and the otelcol-aadhostlogin collector.
# Nothing is assumed to be installed besides Go (and make): every tool is installed, pinned, into the
# git-ignored .tools/bin on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go

# Pinned tools. mdatagen's version is pinned by internal/tools/mdatagen/go.mod.
OCB_VERSION           := v0.165.0
GOLANGCI_LINT_VERSION := v2.15.0
BENCHSTAT_VERSION     := v0.0.0-20260908200009-22c9c6c9d4da

TOOLS_DIR     := $(CURDIR)/.tools
TOOLS_BIN     := $(TOOLS_DIR)/bin
STAMPS        := $(TOOLS_DIR)/stamps
OCB           := $(TOOLS_BIN)/builder
MDATAGEN      := $(TOOLS_BIN)/mdatagen
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint
BENCHSTAT     := $(TOOLS_BIN)/benchstat

# The distribution (builder-config.yaml writes it here).
DIST_DIR := _build
OTELCOL  := $(DIST_DIR)/otelcol-aadhostlogin

# make run
RUN_CONFIG := examples/demo/config.yaml
OUT_DIR    := out
ALERTS     := $(OUT_DIR)/alerts.json
RECORDS    := $(OUT_DIR)/records.json
ALERTLINES := $(OUT_DIR)/alertlines

# Packages of the processor. The end-to-end tests (e2e/, which drive the built binary) and the
# benchmark, load and demo tools (tools/) are modules of their own, so that the component's module
# holds the component only.
PROCESSOR_PKGS := ./ ./internal/...
# Tests and benchmarks that start a real redis-server carry the build tag redis: plain `go test ./...`
# runs the unit tests with nothing but Go, make test and make bench run everything.
REDIS_TAGS     := -tags redis
E2E_DIR        := e2e
TOOLS_MOD      := tools
# The Kafka-protocol broker the end-to-end tests run as a process of its own (tools/cmd/kfake).
KFAKE          := $(OUT_DIR)/kfake

FUZZTIME   ?= 30s
# Each fuzz target runs this long inside make test (make fuzz runs FUZZTIME).
TEST_FUZZTIME ?= 5s
BENCHCOUNT ?= 6
BENCHTIME  ?= 1s
# The scaling benchmarks (per-record cost against the number of tracked IPs).
SCALING_BENCH := Tracked
# The benchmarks that take seconds per iteration, left out of make test's single run of each.
HEAVY_BENCH   := HeapPerPendingLogon|SprayHeap|HeapPerIP|MemoryLatency

# Sources the collector binary is built from: rebuild when one of them changes.
PROCESSOR_SOURCES := $(shell find . -name '*.go' -not -name '*_test.go' \
	-not -path './_build/*' -not -path './.tools/*' -not -path './e2e/*' -not -path './tools/*' \
	-not -path './examples/*' -not -path './internal/tools/*') go.mod go.sum

.PHONY: help
help:
	@echo "make run        build the collector and run the demo (sample data + live OTLP/syslog on loopback)"
	@echo "make build      build the collector ($(OTELCOL)) with ocb"
	@echo "make test       build, then race-tested unit tests and end-to-end tests against the binary"
	@echo "make bench      benchmarks (BENCHCOUNT=$(BENCHCOUNT)), summarised with benchstat"
	@echo "make lint       gofmt, go vet, golangci-lint"
	@echo "make generate   regenerate mdatagen files from metadata.yaml"
	@echo "make demo-data  rewrite the demo data in examples/demo (deterministic)"
	@echo "make fuzz       run every fuzz target for FUZZTIME=$(FUZZTIME)"
	@echo "make clean      remove the build output and run output (make clean-tools also removes .tools)"

# ---------------------------------------------------------------------------------------------------
# Tools. A stamp per version, so changing a pin reinstalls the tool.

$(STAMPS)/ocb-$(OCB_VERSION):
	@echo "installing ocb $(OCB_VERSION) into .tools/bin (once; compiles it, under a minute)"
	@mkdir -p $(TOOLS_BIN) $(STAMPS)
	GOBIN=$(TOOLS_BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	@touch $@

$(STAMPS)/mdatagen: internal/tools/mdatagen/go.mod internal/tools/mdatagen/go.sum
	@echo "building mdatagen (pinned by internal/tools/mdatagen/go.mod) into .tools/bin"
	@mkdir -p $(TOOLS_BIN) $(STAMPS)
	cd internal/tools/mdatagen && $(GO) build -o $(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen
	@touch $@

$(STAMPS)/golangci-lint-$(GOLANGCI_LINT_VERSION):
	@echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into .tools/bin (compiles, about 1-2 minutes)"
	@mkdir -p $(TOOLS_BIN) $(STAMPS)
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@touch $@

$(STAMPS)/benchstat-$(BENCHSTAT_VERSION):
	@echo "installing benchstat into .tools/bin"
	@mkdir -p $(TOOLS_BIN) $(STAMPS)
	GOBIN=$(TOOLS_BIN) $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)
	@touch $@

.PHONY: tools
tools: $(STAMPS)/ocb-$(OCB_VERSION) $(STAMPS)/mdatagen $(STAMPS)/golangci-lint-$(GOLANGCI_LINT_VERSION) $(STAMPS)/benchstat-$(BENCHSTAT_VERSION)

# ---------------------------------------------------------------------------------------------------
# The collector.

.PHONY: build
build: $(OTELCOL)

# tools/build/collector.sh runs ocb and then ocb's compile step with its progress on screen.
$(OTELCOL): builder-config.yaml $(PROCESSOR_SOURCES) $(STAMPS)/ocb-$(OCB_VERSION) tools/build/collector.sh
	@echo "building the collector (a first build fetches ~245 modules and compiles ~1300 packages, about 400 CPU-seconds: some 5 minutes on 2 cores with cold caches; seconds after that)"
	@GO=$(GO) tools/build/collector.sh $(OCB) builder-config.yaml $(DIST_DIR) $(notdir $(OTELCOL))
	@touch $@

# The alert printer of make run (tools/cmd/alertlines): one line per alert of the alerts file.
$(ALERTLINES): $(wildcard $(TOOLS_MOD)/alertline/*.go $(TOOLS_MOD)/cmd/alertlines/*.go) $(TOOLS_MOD)/go.mod $(TOOLS_MOD)/go.sum $(PROCESSOR_SOURCES)
	@echo "building the alert printer (tools/cmd/alertlines)"
	@mkdir -p $(OUT_DIR)
	@$(GO) -C $(TOOLS_MOD) build -o $(CURDIR)/$@ ./cmd/alertlines

.PHONY: run
run: $(OTELCOL) $(ALERTLINES)
	@mkdir -p $(OUT_DIR)
	@rm -f $(ALERTS) $(RECORDS)
	@echo
	@echo "=== otelcol-aadhostlogin demo ============================================================="
	@echo "config:  $(RUN_CONFIG)"
	@echo "replays: examples/demo/auth.log, signins.jsonl, securityevents.jsonl (see examples/demo/EXPECTED.md)"
	@echo "rules:   aad-then-host (failed sign-ins, then a host logon) and host-then-aad (failed host logons, then a successful sign-in)"
	@echo "alerts:  one line each below (time of the success, rule, address, where the success was, failures and their source);"
	@echo "         the full records, as OTLP JSON: $(CURDIR)/$(ALERTS)"
	@echo "records: every record passed through, alerts among them: $(CURDIR)/$(RECORDS)"
	@echo "logs:    the collector's own log says only what is wrong (level warn; examples/demo/config.yaml, service::telemetry)"
	@echo
	@echo "live data, from another terminal:"
	@echo "  examples/demo/send-live.sh    six failed sign-ins (OTLP/HTTP) and an SSH logon (syslog) from one address: one alert"
	@echo "  or by hand:"
	@echo "    syslog, RFC 5424 over TCP, 127.0.0.1:5514:"
	@echo "      logger --server 127.0.0.1 --port 5514 --tcp --rfc5424 -p authpriv.info -t sshd 'Accepted password for alice from 198.51.100.23 port 50522 ssh2'"
	@echo "    OTLP/gRPC 127.0.0.1:4317, OTLP/HTTP 127.0.0.1:4318, e.g. a failed sign-in (more than 5 from one address make it suspicious):"
	@echo "      curl -sS http://127.0.0.1:4318/v1/logs -H 'Content-Type: application/json' -d '{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"'\$$(date +%s%N)'\",\"attributes\":[{\"key\":\"Type\",\"value\":{\"stringValue\":\"SigninLogs\"}},{\"key\":\"IPAddress\",\"value\":{\"stringValue\":\"198.51.100.23\"}},{\"key\":\"ResultType\",\"value\":{\"stringValue\":\"50126\"}}]}]}]}]}'"
	@echo "Ctrl-C stops the collector."
	@echo "==========================================================================================="
	@echo
	@$(ALERTLINES) -follow $(ALERTS) & printer=$$!; \
	trap 'kill $$printer 2>/dev/null || true' EXIT; \
	./$(OTELCOL) --config $(RUN_CONFIG)

# Rewrites the demo data (deterministic: the same files every time).
.PHONY: demo-data
demo-data:
	$(GO) -C $(TOOLS_MOD) run ./cmd/demogen -out $(CURDIR)/examples/demo

# ---------------------------------------------------------------------------------------------------
# Tests.

$(KFAKE): $(wildcard $(TOOLS_MOD)/cmd/kfake/*.go) $(TOOLS_MOD)/go.mod $(TOOLS_MOD)/go.sum
	@mkdir -p $(OUT_DIR)
	$(GO) -C $(TOOLS_MOD) build -o $(CURDIR)/$(KFAKE) ./cmd/kfake

.PHONY: test
test: $(OTELCOL) $(KFAKE)
	$(GO) test -race -count=1 $(REDIS_TAGS) $(PROCESSOR_PKGS)
	@# The ten-million-address spray (attack_test.go) is compiled out under -race: run it here.
	$(GO) test -count=1 -run 'TestSprayOfTenMillionAddresses' .
	@# Each benchmark but the largest runs once, measuring nothing: a benchmark whose records or
	@# expectations no longer hold (they assert what they measure) fails here rather than in make bench.
	$(GO) test -count=1 $(REDIS_TAGS) -run '^$$' -bench . -skip '$(SCALING_BENCH)|$(HEAVY_BENCH)' -benchtime 1x $(PROCESSOR_PKGS)
	$(GO) -C $(TOOLS_MOD) test -count=1 ./...
	OTELCOL_BIN=$(CURDIR)/$(OTELCOL) KFAKE_BIN=$(CURDIR)/$(KFAKE) $(GO) -C $(E2E_DIR) test -tags e2e -count=1 -timeout 10m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

# make bench: micro-benchmarks (benchstat-ready, out/bench.txt), a CPU profile of the realistic mix, the
# end-to-end comparison and alert latency through the built collector (tools/bench/e2e, tools/cmd/loadgen),
# then BENCHMARKS.md's generated sections (tools/bench/report). Each step is also a target of its own.
# Benchmarks are measurements, not tests: `make test` only runs each of the smaller ones once, to see that
# it still runs. E2E_FLAGS passes flags to tools/bench/e2e.
.PHONY: bench bench-micro bench-profile bench-e2e bench-report
bench: # one step after the other, also under make -j: measurements must not overlap
	$(MAKE) bench-micro
	$(MAKE) bench-profile
	$(MAKE) bench-e2e
	$(MAKE) bench-report

bench-micro: $(STAMPS)/benchstat-$(BENCHSTAT_VERSION)
	@mkdir -p $(OUT_DIR)
	@echo "micro-before $$(cut -d' ' -f1-3 /proc/loadavg)" > $(OUT_DIR)/bench-load.txt
	$(GO) test $(REDIS_TAGS) -run '^$$' -bench . -skip '$(SCALING_BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) \
		$(PROCESSOR_PKGS) | tee $(OUT_DIR)/bench.txt
	@# Scaling compares benchmarks with each other: they run in turn, BENCHCOUNT times, rather than each
	@# BENCHCOUNT times in a row, so that the machine's drift over minutes weighs on all sizes alike.
	for i in $$(seq $(BENCHCOUNT)); do \
		$(GO) test -run '^$$' -bench '$(SCALING_BENCH)' -benchmem -benchtime $(BENCHTIME) -count 1 \
			$(PROCESSOR_PKGS) | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' || exit 1; \
	done | tee -a $(OUT_DIR)/bench.txt
	@echo "micro-after $$(cut -d' ' -f1-3 /proc/loadavg)" >> $(OUT_DIR)/bench-load.txt
	$(BENCHSTAT) $(OUT_DIR)/bench.txt | tee $(OUT_DIR)/benchstat.txt
	$(BENCHSTAT) -format csv $(OUT_DIR)/bench.txt > $(OUT_DIR)/benchstat.csv

bench-profile:
	@mkdir -p $(OUT_DIR)
	@sed -i '/^profile /d' $(OUT_DIR)/bench-load.txt 2>/dev/null || true
	@echo "profile $$(cut -d' ' -f1-3 /proc/loadavg)" >> $(OUT_DIR)/bench-load.txt
	$(GO) test -run '^$$' -bench '^BenchmarkRealisticMix$$' -benchtime 5s -cpuprofile $(OUT_DIR)/mix.cpu.prof \
		-o $(OUT_DIR)/aadhostlogincorrelation.test .
	@# Every function (the report adds up time by package), of the samples the benchmark labels as the
	@# processor's work (not the building of its batches).
	$(GO) tool pprof -top -nodecount 100000 -nodefraction 0 -tagfocus work=processor \
		$(OUT_DIR)/aadhostlogincorrelation.test $(OUT_DIR)/mix.cpu.prof > $(OUT_DIR)/profile.txt
	@head -n 25 $(OUT_DIR)/profile.txt

bench-e2e: $(OTELCOL)
	@mkdir -p $(OUT_DIR)
	@sed -i '/^e2e-/d' $(OUT_DIR)/bench-load.txt 2>/dev/null || true
	@echo "e2e-before $$(cut -d' ' -f1-3 /proc/loadavg)" >> $(OUT_DIR)/bench-load.txt
	$(GO) -C $(TOOLS_MOD) build -o $(CURDIR)/$(OUT_DIR)/loadgen ./cmd/loadgen
	$(GO) -C $(TOOLS_MOD) build -o $(CURDIR)/$(OUT_DIR)/bench-e2e ./bench/e2e
	$(OUT_DIR)/bench-e2e -collector $(OTELCOL) -loadgen $(OUT_DIR)/loadgen -out $(OUT_DIR)/e2e.json $(E2E_FLAGS)
	@echo "e2e-after $$(cut -d' ' -f1-3 /proc/loadavg)" >> $(OUT_DIR)/bench-load.txt

bench-report:
	$(GO) -C $(TOOLS_MOD) build -o $(CURDIR)/$(OUT_DIR)/bench-report ./bench/report
	$(OUT_DIR)/bench-report -dir $(OUT_DIR) -o BENCHMARKS.md -count $(BENCHCOUNT) -benchtime $(BENCHTIME) -e2e-flags '$(E2E_FLAGS)'

# Runs every fuzz target (go test -fuzz takes one target of one package at a time) for FUZZTIME. A run that
# fails only with Go 1.26's "context deadline exceeded" at the end of FUZZTIME (no input written, no panic)
# is run once more; any other failure fails.
.PHONY: fuzz
fuzz:
	@found=0; \
	for pkg in $$($(GO) list $(PROCESSOR_PKGS)); do \
		for target in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz' || true); do \
			found=1; \
			echo "fuzzing $$pkg $$target for $(FUZZTIME)"; \
			log=$$(mktemp); \
			if ! $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg 2>&1 | tee $$log; then \
				if grep -q 'context deadline exceeded' $$log && ! grep -q -e 'Failing input written' -e 'panic:' $$log; then \
					echo "$$target stopped on the -fuzztime deadline race of Go's fuzzing coordinator (golang/go#75804, fixed in Go 1.27), not on an input: running it again"; \
					$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
				else \
					rm -f $$log; exit 1; \
				fi; \
			fi; \
			rm -f $$log; \
		done; \
	done; \
	if [ $$found = 0 ]; then echo "no fuzz targets found" >&2; exit 1; fi

# ---------------------------------------------------------------------------------------------------
# Code hygiene.

.PHONY: lint
lint: $(STAMPS)/golangci-lint-$(GOLANGCI_LINT_VERSION)
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './_build/*' -not -path './.tools/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(REDIS_TAGS) ./...
	$(GO) -C $(TOOLS_MOD) vet ./...
	$(GO) -C $(E2E_DIR) vet -tags e2e ./...
	$(GOLANGCI_LINT) run --build-tags redis ./...
	cd $(TOOLS_MOD) && $(GOLANGCI_LINT) run ./...
	cd $(E2E_DIR) && $(GOLANGCI_LINT) run --build-tags e2e ./...

# mdatagen names the package after the folder it runs in, so run it from a folder named
# aadhostlogincorrelation whatever this checkout is called.
.PHONY: generate
generate: $(STAMPS)/mdatagen
	ln -sfn $(CURDIR) $(TOOLS_DIR)/aadhostlogincorrelation
	cd $(TOOLS_DIR)/aadhostlogincorrelation && $(MDATAGEN) metadata.yaml

.PHONY: clean
clean:
	rm -rf $(DIST_DIR) $(OUT_DIR) $(TOOLS_DIR)/aadhostlogincorrelation

.PHONY: clean-tools
clean-tools:
	rm -rf $(TOOLS_DIR)
