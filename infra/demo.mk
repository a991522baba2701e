# Demo data and the console's browser test. Included by the Makefile at the repo root (after PORT and
# VENV_STAMP are defined).

## make demo: a month of history (about 600 reports from 150 citizens) into the stack `make run` serves:
## run it in a second terminal. API=… for another stack; DEMO_FLAGS for the size (-reports, -citizens,
## -days, -seed). Running it again only adds what has happened since.
API ?= http://127.0.0.1:$(PORT)
DEMO_FLAGS ?=
.PHONY: demo
demo:
	API=$(API) go run ./infra/cmd/demo $(DEMO_FLAGS)

## make browser-deps: Debian's Chromium and a CJK font (apt, skipped when installed), playwright-core at
## the locked version (npm ci, skipped while node_modules is current).
.PHONY: browser-deps
browser-deps:
	tests/browser/deps.sh

## make browser-test: a fresh local stack on a free port, a demo month loaded through its API, the console
## checked in headless Chromium against the KPI API; the stack is stopped after. Screenshot:
## tests/output/browser/dashboard.png. DEMO_FLAGS sizes the month (default -days 14 -reports 40 -citizens 15).
.PHONY: browser-test
browser-test: $(VENV_STAMP) browser-deps
	tests/browser/run.sh

## make scale: a month of Mengzi at full size (about 13,400 reports from 6,300 active citizens among 76,000)
## through a fresh local stack of its own, then the KPI roll-up: prints the KPIs beside the plan, request
## rate and p50/p99 latency by tenth of the run, moto's peak memory and the wall time; fails if a target
## is missed. SCALE_FLAGS: -reports N (smaller months to try), -workers, -seed, -log FILE.
SCALE_FLAGS ?=
.PHONY: scale
scale: $(VENV_STAMP)
	go run ./infra/cmd/scale $(SCALE_FLAGS)
