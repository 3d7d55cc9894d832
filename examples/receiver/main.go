// Command receiver is an example endpoint for hookgate deliveries: it
// verifies X-FN-Signature or the Standard Webhooks headers over the raw
// body, refuses replays outside a 5-minute window, and processes each
// delivery uuid once (hookgate delivers at least once).
//
//	HOOKGATE_WEBHOOK_SECRETS=<secret>[,<other secret while rotating>] go run ./examples/receiver -listen :9000
//
// `hookgate secret NAME` prints a webhook's secret in that form; the
// README's "Try it" runs this receiver against examples/receiver/gateway.hcl.
//
// It keeps seen uuids in memory; a real receiver keeps them where it keeps
// the effects of processing, in the same transaction.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to listen on")
	flag.Parse()
	secrets := strings.FieldsFunc(os.Getenv("HOOKGATE_WEBHOOK_SECRETS"), func(r rune) bool { return r == ',' || r == ' ' })
	if len(secrets) == 0 {
		log.Fatal("set HOOKGATE_WEBHOOK_SECRETS to the webhook's secret (comma-separated while rotating)")
	}
	rc := &Receiver{Secrets: secrets, Handle: func(d Delivery) error {
		log.Printf("verified delivery %s (attempt %d): %s, %d bytes", d.UUID, d.Attempt, d.Event, len(d.Body))
		return nil
	}}
	srv := &http.Server{Addr: *listen, Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("receiving on %s", *listen)
	log.Fatal(srv.ListenAndServe())
}
