# dataexport: the two commands README.md promises, and what they build on.
GO ?= go
BIN := bin/dataexport

.PHONY: build demo test test-short bench azurite postgres vet clean

build:
	$(GO) build -o $(BIN) ./cmd/dataexport

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
	$(GO) vet ./...
	$(GO) test -count=1 ./...

bench: postgres
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin .demo
