# dataexport: the two commands README.md promises, and what they build on.
GO ?= go
BIN := bin/dataexport

.PHONY: build package demo test test-short fuzz bench bench-pipeline azurite postgres vet clean

build:
	$(GO) build -o $(BIN) ./cmd/dataexport

# The Azure deployment package: the layout the Functions host expects, with
# the Linux amd64 binary at the app root under the name host.json starts
# (customHandler.description.defaultExecutablePath = "dataexport"), host.json,
# and one folder per function with its function.json. Deploy
# dist/functionapp.zip as infra/README.md describes.
DIST := dist/functionapp

package:
	rm -rf $(DIST) $(DIST).zip
	mkdir -p $(DIST)
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -o $(DIST)/dataexport ./cmd/dataexport
	chmod 0755 $(DIST)/dataexport
	cp host.json $(DIST)/
	for f in functions/*/function.json; do \
		d=$(DIST)/$$(basename $$(dirname $$f)); mkdir -p $$d && cp $$f $$d/ || exit 1; \
	done
	cd $(DIST) && zip -q -X -r ../functionapp.zip .
	@echo "$(DIST).zip: $$(unzip -Z1 $(DIST).zip | tr '\n' ' ')"

azurite:
	scripts/azurite.sh start

postgres:
	scripts/postgres.sh

# Emulator → standalone Functions host on Azurite → SQLite, with an insert, an
# update and a delete; exits non-zero unless destination equals source.
demo: azurite build
	$(BIN) demo

# Every test, against live Azurite, PostgreSQL and SQLite.
test: azurite postgres
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# The exit code, not the output: on a fresh module cache tidy also
	@# prints "go: downloading …" lines, which are no difference.
	@$(GO) mod tidy -diff || { echo "go mod tidy -diff is not empty (above)"; exit 1; }
	$(GO) test -count=1 ./...
	$(MAKE) fuzz

# The fuzz targets of what reads untrusted input (profile documents, the
# host's HTTP envelopes and routes, connection strings in errors), each for
# a fixed number of executions (pkg:target:count): new crashers fail CI, the
# corpus grows locally. Counts, not durations: Go 1.26's coordinator can
# report "context deadline exceeded" when a duration runs out while a worker
# is busy (golang/go#75804), a false failure a count cannot produce.
# FUZZTIME overrides every budget (a count such as 500000x, or a duration).
FUZZ := ./internal/profile:FuzzDecode:60000x ./handlers:FuzzHTTPInvocation:30000x ./internal/funchost:FuzzMatchRoute:60000x ./internal/destination:FuzzRedact:15000x ./internal/sync:FuzzDecodeMessage:60000x ./internal/dataverse:FuzzScanPage:60000x

fuzz:
	@for f in $(FUZZ); do \
		pkg=$${f%%:*}; rest=$${f#*:}; name=$${rest%%:*}; budget=$${rest#*:}; \
		budget=$${FUZZTIME:-$$budget}; \
		echo "fuzz $$name ($$pkg, $$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget -fuzzminimizetime 500x -timeout 5m $$pkg || exit 1; \
	done

bench: postgres
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The end-to-end pipeline benchmark (bench/pipeline/README.md): emulator →
# dataexport run (private Azurite) → PostgreSQL and SQLite, beside each
# database's own bulk load of the same rows; writes bench/pipeline/results.md.
# ROWS=1000000 for the large dataset; BENCH_FLAGS for more (-h lists them).
ROWS ?= 200000
bench-pipeline: build postgres
	$(GO) run ./bench/pipeline -rows $(ROWS) $(BENCH_FLAGS)

clean:
	rm -rf bin .demo dist
