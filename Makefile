# civicsnap — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export GOFLAGS := -buildvcs=false
PORT ?= 3000

.PHONY: help
help:
	@echo "make run    start the local stack (moto, resources from template.yaml, seed, API on 127.0.0.1:$(PORT))"
	@echo "make test   vet, unit, integration (moto), template lint, sam build, e2e"

$(VENV_STAMP): infra/tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r infra/tools/requirements.txt
	touch $@

.PHONY: venv
venv: $(VENV_STAMP)

## make run: the whole stack on this machine. Ctrl-C stops everything it started.
.PHONY: run
run: $(VENV_STAMP)
	go build -o bin/civicsnap-local ./infra/cmd/civicsnap-local
	PORT=$(PORT) exec bin/civicsnap-local

## make run keeps its data in STATE_DIR: loaded at start, saved on Ctrl-C. Only `make run` gets it, so the
## e2e and browser tests, which start the same binary, run on a fresh stack.
## make reset: forget it; the next `make run` starts from the seed.
STATE_DIR ?= $(CURDIR)/.local/state
run: export CIVICSNAP_STATE_DIR = $(STATE_DIR)
.PHONY: reset
reset:
	@test -n "$(STATE_DIR)" || { echo "make reset: STATE_DIR is empty"; exit 2; }
	@if [ -e "$(STATE_DIR)/lock" ] && command -v flock >/dev/null && ! flock -n "$(STATE_DIR)/lock" true; then \
	  echo "make reset: a make run is using $(STATE_DIR) (it would save it again when it stops): stop it first"; exit 1; fi
	rm -rf -- "$(STATE_DIR)"
	@echo "make reset: emptied $(STATE_DIR); the next make run starts from the seed"

## make test: everything CI checks, in order of cost.
.PHONY: test
test: $(VENV_STAMP) vet gotest sam-validate sam-build smoke browser-test
	go run ./infra/cmd/fuzz -duration 30s
	@echo "make test: all checks passed"

.PHONY: vet
vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...

## Unit, integration (each package starts its own moto) and e2e (tests/ starts the local runner) tests.
## GOTEST_FIRST go first: go test runs packages in the order named, and ./...'s order put the e2e suite last,
## where it ran alone for its ~55 s while mostly waiting on its stack (~17 CPU-s), a core idle; the KPI
## package is the longest (75-150 s). First, both overlap the CPU-bound rest: at b8ff288 on 2 cores,
## `go test -count=1 ./...` against this order, back to back at low load: 288 → 242 s and 218 → 203 s (at a
## load of 7 from other work, no difference: then no core is idle to overlap).
GOTEST_FIRST := ./tests/e2e ./functions/kpi/kpifn
## -vet=off: go test's own vet pass (atomic, bools, buildtag, directive, errorsas, ifaceassert, nilfunc,
## printf, stringintconv, tests) is a subset of `go vet ./...`, which make vet (a prerequisite) has just run on
## the same packages, test files included; its different set of analyzers missed vet's cache, and ran again
## on every package: 32 CPU-s (27 s wall at a load of 3: `go vet -atomic -bool … -tests ./...` on a cold
## cache) that make test no longer spends.
.PHONY: gotest
gotest: $(VENV_STAMP) vet
	go test -vet=off -count=1 -timeout 8m $(GOTEST_FIRST) ./...
	go test -vet=off -run '^$$' -fuzz FuzzStrip -fuzztime 10s ./shared/photo

.PHONY: bench
bench: $(VENV_STAMP)
	go test -run '^$$' -bench . -benchmem -count=1 ./...
## The KPI tests at full size (20,000 open reports, a 50,000-report day, five years of days; some 5 minutes on
## 2 cores): the figures in README's Performance. make test runs them smaller, with the same assertions.
.PHONY: kpi-scale-test
kpi-scale-test: $(VENV_STAMP)
	CIVICSNAP_KPI_FULL_SCALE=1 go test -count=1 -timeout 20m -v -run 'TestKPIRunIgnoresTheOpenBacklog|TestKPIRunOfA50000ReportDay|TestPublicStatsAfterFiveYears' ./functions/kpi/kpifn

include infra/build.mk
include infra/demo.mk

## Recompute the KPI snapshots of a range against `make run`'s stack: make kpi-backfill FROM=2026-11-01 TO=2026-11-30
## (a day per request, retried on 5xx/429/timeouts — a recomputation is safe to repeat — with progress).
.PHONY: kpi-backfill
kpi-backfill:
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make kpi-backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD"; exit 2; }
	go run ./infra/cmd/demo -api http://127.0.0.1:$(PORT) -backfill $(FROM)..$(TO)
