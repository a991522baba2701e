# Build, package and smoke-test the Lambda functions. Included by the Makefile at the repo root.
#
# Every directory functions/<name>/ holding a main.go is a function. Adding one needs no line here:
# - `make build` finds it by its main.go;
# - `sam build` (template Metadata BuildMethod: makefile) calls build-<LogicalId>, and the logical id
#   <Name>Function is mapped to functions/<name>/ case-insensitively, ignoring '-' and '_' in the folder
#   name (DepartmentCallbacksFunction → functions/department-callbacks/). Set FUNCTION_DIR_<LogicalId>
#   only for a resource whose name does not follow that pattern.

GO ?= go
SAM := $(VENV)/bin/sam

FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))

# Lambda flags: the provided.al2023 runtime on Graviton, no cgo (no libc to match), no RPC mode of
# aws-lambda-go (only needed by the retired go1.x runtime), no local paths, no symbols or DWARF.
# timetzdata embeds the zone database (+0.4 MB): functions load CITY_TZ at init and exit if it is
# unknown, and provided.al2023 is a minimal image that has shipped without /usr/share/zoneinfo.
GO_TAGS := lambda.norpc,timetzdata
LAMBDA_GOENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_LDFLAGS := -s -w
LAMBDA_GOFLAGS := -tags $(GO_TAGS) -trimpath -ldflags="$(LAMBDA_LDFLAGS)"

# The Lambda Runtime Interface Emulator, built from source at a pinned version (see `rie` below).
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := bin/aws-lambda-rie

lc = $(shell printf '%s' '$(1)' | tr '[:upper:]' '[:lower:]')
# function_dir maps a logical id (IntakeFunction) to its folder name under functions/ (intake).
function_dir = $(or $(FUNCTION_DIR_$(1)),$(firstword $(foreach d,$(FUNCTIONS),$(if $(filter $(call lc,$(1:%Function=%)),$(call lc,$(subst -,,$(subst _,,$(d))))),$(d)))))

HOST_BINS := $(FUNCTIONS:%=bin/%/bootstrap)

# Host-arch binaries for the smoke tests. Plain `go build` settings (no -trimpath, cgo and time as the
# host has them) so they reuse every package `go test ./...` and `go vet` already compiled: only the
# lambda package and the links are new. lambda.norpc keeps the Runtime API path Lambda runs.
# Phony: Go's build cache decides what is stale (an up-to-date binary is not relinked).
.PHONY: build $(HOST_BINS)
build: $(HOST_BINS) ## host-arch bootstrap of every function into bin/<name>/bootstrap
$(HOST_BINS): bin/%/bootstrap:
	$(GO) build -tags lambda.norpc -o $@ ./functions/$*

# sam build runs build-<LogicalId> once per function (BuildMethod: makefile) with ARTIFACTS_DIR set.
build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-$*Function: ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	@test -n "$(call function_dir,$*Function)" || { echo "build-$*Function: no functions/<dir>/main.go matches; set FUNCTION_DIR_$*Function"; exit 1; }
	$(LAMBDA_GOENV) $(GO) build $(LAMBDA_GOFLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(call function_dir,$*Function)

# sam validate --lint is cfn-lint: it calls cfnlint.api.lint on the template with the same installed rules
# (samcli/commands/validate/validate.py). A second `cfn-lint template.yaml` here found exactly what it found
# (a template with 4 kinds of error: the same 21 matches, E1020 E3002 E3030 E3031) in 6 more CPU-s.
.PHONY: sam-validate
sam-validate: $(VENV_STAMP) ## sam validate --lint (offline: cfn-lint)
	$(SAM) validate --lint --template-file template.yaml

.PHONY: sam-build
sam-build: $(VENV_STAMP) ## sam build of every function (settings in samconfig.toml)
	$(SAM) build

# go install module@version builds the emulator against its own go.mod and go.sum, so none of its
# dependencies (chi, logrus, testify, go-flags, jsonschema...) enter this module's go.mod, and ours cannot
# change the versions it was tested with. GOFLAGS is cleared: -buildvcs and friends are ours, not its.
# The stamp names the version: changing RIE_VERSION rebuilds the binary.
RIE_STAMP := bin/.aws-lambda-rie@$(RIE_VERSION)
$(RIE): $(RIE_STAMP)
	GOBIN=$(abspath $(@D)) GOFLAGS= CGO_ENABLED=0 $(GO) install $(RIE_MODULE)/cmd/aws-lambda-rie@$(RIE_VERSION)
	@touch $@
$(RIE_STAMP):
	@mkdir -p $(@D) && rm -f bin/.aws-lambda-rie@* && touch $@

.PHONY: rie
rie: $(RIE) ## the Lambda Runtime Interface Emulator, bin/aws-lambda-rie

# Cold start against a hello-world Go function under the RIE (issue 11): PAIRS interleaved pairs per
# function and per SDK floor (infra/cmd/coldstart/floor), the medians of the ratios of total and init, the
# package inits' CPU time (GODEBUG=inittrace=1) and the linux/arm64 binary sizes (README "Performance").
# About 2 minutes on 2 cores at 30 pairs, so not part of make test (make smoke runs intake once).
PAIRS ?= 30
.PHONY: coldstart
coldstart: $(RIE) ## cold start and binary size of every function against hello-world (PAIRS=30)
	$(GO) run ./infra/cmd/coldstart -pairs $(PAIRS) -rie $(RIE) -tags $(GO_TAGS) -ldflags "$(LAMBDA_LDFLAGS)"

# Only intake's bootstrap runs under the emulator (tests/smoke/rie_test.go), so only it is built: `make
# build` linked all 17 host binaries here (17 s of CPU, 46 s at a load of 11, against 1 s for intake's),
# and every function is compiled by go vet and go test and built for Lambda by sam build anyway.
.PHONY: smoke
smoke: bin/intake/bootstrap $(RIE) ## the intake bootstrap under the Runtime Interface Emulator, event fixtures against template.yaml
	SMOKE=1 RIE=$(abspath $(RIE)) BIN_DIR=$(abspath bin) $(GO) test -count=1 -v ./tests/smoke/
