# pvc-guard: see README.md. `make test` is what CI runs (.ci/run).
GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X github.com/pvc-guard/pvc-guard/internal/cli.Version=$(VERSION)
BIN         := bin/pvc-guard
ROLLBACK    := bin/pvc-guard-rollback
FUZZTIME    ?= 20s

.PHONY: all build test unit-test vet bench fuzz clean plugin-install package release

include cluster/cluster.mk

all: build

# Two binaries: pvc-guard, Helm's post-renderer, which must start fast, and
# pvc-guard-rollback, which links Helm's SDK and which `pvc-guard rollback`
# runs from the same directory.
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(ROLLBACK) ./cmd/pvc-guard-rollback

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# Every test: unit, golden, fuzz seeds, and the end-to-end tests against a
# real control plane and real helm3/helm4 (built once, cached outside git;
# PVC_GUARD_E2E=require turns a missing binary into a failure, not a skip).
# The end-to-end suite runs on the newest Kubernetes minor (cluster/lib.sh's
# default); the tests of the claim and StatefulSet rules, which mirror the
# API server's validation, run again on the oldest. Name such tests to match
# E2E_OLDEST_RUN.
E2E_OLDEST_K8S := 1.34
E2E_OLDEST_RUN := ^(TestHarnessIsReal|TestStatefulSet|TestRulesAgreeWithTheAPIServer|TestExpandVolumes|TestAuditPredictsStatefulSetRollbacks|TestRenderAgainstTheCluster|TestUpgradeThroughPostRenderer|TestRollback)
E2E_ENV = PVC_GUARD_E2E=require PVC_GUARD_BIN=$(CURDIR)/$(BIN)
test: vet build cluster-build
	$(E2E_ENV) $(GO) test -count=1 -timeout 45m ./...
	$(E2E_ENV) PVC_GUARD_K8S=$(E2E_OLDEST_K8S) $(GO) test -count=1 -timeout 20m -run '$(E2E_OLDEST_RUN)' ./e2e

unit-test:
	$(GO) test -count=1 ./renderer/... ./live/... ./internal/... ./krm/... ./flux/... ./rollback/...

# Fuzz the stream splitter, the renderer, the fast YAML parser (against the
# YAML library) and the text splice beyond their seed corpus.
fuzz:
	$(GO) test ./renderer/yamltext -run='^$$' -fuzz=FuzzEachDocument -fuzztime=$(FUZZTIME)
	$(GO) test ./renderer -run='^$$' -fuzz=FuzzRender -fuzztime=$(FUZZTIME)
	$(GO) test ./renderer/yamltext -run='^$$' -fuzz=FuzzBlockYAML -fuzztime=$(FUZZTIME)
	$(GO) test ./renderer/yamltext -run='^$$' -fuzz=FuzzSplicePlainDocuments -fuzztime=$(FUZZTIME)

# Throughput against `cat` as the identity post-renderer, in one run;
# BASELINE=path/to/older/pvc-guard measures that binary in the same rounds,
# BENCH_ARGS go to bin/pvc-guard only (BENCH_ARGS="--rules builtin:workloads").
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./renderer
	$(GO) run ./hack/bench -pvc-guard $(BIN) $(if $(BASELINE),-baseline $(BASELINE)) $(if $(BENCH_ARGS),-- $(BENCH_ARGS))

# Install the Helm plugins for each helm, helm3 and helm4 on PATH (see
# scripts/install-plugins.sh for HELM_BINS and the Helm 3/Helm 4 rules),
# with the binaries just built rather than a release download.
plugin-install: build
	@scripts/install-plugins.sh

# Plugin tarballs with prebuilt binaries at plugin.yaml's version, and
# SHA256SUMS, in dist/. The variables are read from the command line or the
# environment: VERSION (checked against plugin.yaml), DIST, PLATFORMS,
# SIGN_KEY and KEYRING (Helm 4 .prov files); see scripts/package.sh.
package:
	@scripts/package.sh

# What a tag build runs: make release VERSION=$TAG SIGN_KEY=... KEYRING=...
# writes every asset of the GitHub release vVERSION into dist/.
release:
	@scripts/release.sh

clean:
	rm -rf bin dist
