// Package sinkpb is the gRPC contract between the gateway's plugin host and
// sink processes: sink.proto and the code generated from it (regenerate with
// ./gen.sh; never edit the *.pb.go files by hand).
//
// Sink authors do not use this package: they implement sdk.Sink and call
// sdk.Serve, which speaks this protocol for them.
package sinkpb
