// Command hookgate-sink-teams is an example custom sink: it posts each
// delivery, a card rendered by the webhook's payload template, to a
// Microsoft Teams channel through a Teams "Workflows" webhook (the
// successor of the retired Office 365 connector webhooks).
//
// Build it, pin it and name it in gateway.hcl (see README.md):
//
//	go build -o bin/hookgate-sink-teams ./examples/custom-sink
//	sha256sum bin/hookgate-sink-teams
package main

import "github.com/hookgate/hookgate/plugins/sdk"

func main() { sdk.Serve(newTeamsSink()) }
