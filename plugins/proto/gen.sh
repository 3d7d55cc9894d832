#!/bin/sh
# Regenerates the Go code for sink.proto. Needs protoc (Debian:
# apt-get install -y protobuf-compiler) and the two Go plugins at the pinned
# versions below; the Go plugins are installed when missing.
set -eu
cd "$(dirname "$0")"

GOBIN="$(go env GOPATH)/bin"
PATH="$GOBIN:$PATH"
export PATH

want_go=v1.36.12   # google.golang.org/protobuf, matches go.mod
want_grpc=v1.5.1   # google.golang.org/grpc/cmd/protoc-gen-go-grpc

if ! command -v protoc >/dev/null 2>&1; then
	echo "gen.sh: protoc not found; install it (Debian: apt-get install -y protobuf-compiler)" >&2
	exit 1
fi
case "$(protoc-gen-go --version 2>/dev/null || true)" in
*"$want_go"*) ;;
*) go install "google.golang.org/protobuf/cmd/protoc-gen-go@$want_go" ;;
esac
case "$(protoc-gen-go-grpc --version 2>/dev/null || true)" in
*"${want_grpc#v}"*) ;;
*) go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$want_grpc" ;;
esac

protoc -I . \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	sink.proto
