# hookgate — the two commands are `make run` and `make test`.
GO       ?= go
BIN      := bin/hookgate
CONFIG   ?= gateway.hcl
# Short fuzzing in `make test`; raise for a real campaign: make fuzz FUZZTIME=5m
FUZZTIME ?= 3s
PKGS     := ./...

.PHONY: run build test vet unit fuzz bench proto clean

run: build
	./$(BIN) serve --config $(CONFIG)

build:
	$(GO) build -o $(BIN) ./cmd/hookgate

test: vet unit fuzz

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -timeout 15m $(PKGS)

# Each fuzz target runs FUZZTIME on top of its committed seed corpus.
fuzz:
	@set -e; for spec in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for target in $$(grep -h '^func Fuzz' $$spec/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$spec $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$spec; \
	  done; \
	done

# Prints the figures; see README "Measured". Not a pass/fail test.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

# Regenerates the gRPC contract (generated code is committed).
proto:
	@command -v protoc >/dev/null || (apt-get update && apt-get install -y protobuf-compiler)
	@command -v protoc-gen-go >/dev/null || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	@command -v protoc-gen-go-grpc >/dev/null || $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" sh plugins/proto/gen.sh

clean:
	rm -rf bin data
