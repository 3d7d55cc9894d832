// Package sdk is the public API for writing a hookgate sink: the thing that
// performs one delivery attempt (an HTTP call, a ServiceNow record, ...) and
// reports what happened.
//
// A sink is a separate executable. It implements Sink and hands it to Serve,
// which speaks the gateway's plugin protocol (hashicorp/go-plugin over gRPC)
// on stdin/stdout; the gateway starts the binary, checks its SHA-256 when
// pinned, calls Configure once, then streams deliveries to it. Deliver is
// called concurrently, once per attempt, with a context that expires after
// Request.Timeout. A panic in Deliver is recovered and reported to the
// gateway as a retryable failure of that attempt only.
//
// Report the remote's answer in the Result: Retryable says whether the
// gateway should try again (5xx, 408, 429, timeouts and connection errors
// are retryable; other 4xx are not), RetryAfter passes on a Retry-After.
// Log with log/slog: Serve installs a default logger whose records appear in
// the gateway's log with the attribute sink=<name>. Never log a credential.
//
// Outbound connections must honour Config.AllowHTTP and
// Config.AllowPrivateNetworks; package netguard does that for an
// *http.Client, and package sinkhttp is a ready client built on it that also
// caps answers, parses Retry-After, classifies statuses as above, keeps
// URLs out of errors and caches OAuth tokens.
//
// A complete sink:
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"log/slog"
//
//		"github.com/hookgate/hookgate/plugins/sdk"
//	)
//
//	// echoSink accepts every delivery whose body is not empty.
//	type echoSink struct{ prefix string }
//
//	func (s *echoSink) Configure(ctx context.Context, cfg sdk.Config) error {
//		for k, v := range cfg.Settings {
//			if k != "prefix" {
//				return fmt.Errorf("%s: unknown setting", k)
//			}
//			s.prefix = v
//		}
//		return nil
//	}
//
//	func (s *echoSink) Deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
//		if len(req.Body) == 0 {
//			return &sdk.Result{Error: "empty body", Retryable: false}, nil
//		}
//		slog.InfoContext(ctx, "delivered", "delivery", req.ID)
//		return &sdk.Result{Status: 200, ExternalRef: s.prefix + req.ID}, nil
//	}
//
//	func main() { sdk.Serve(&echoSink{}) }
//
// and in gateway.hcl:
//
//	sink "echo" {
//	  command   = "/usr/local/bin/echo-sink"
//	  sha256    = "…"
//	  config    = { prefix = "ev-" }
//	  companies = [100] // whose webhooks may use it
//	}
//
// Tests can run a sink as a real subprocess with package sdktest.
package sdk
