// Command gen writes the OpenAPI document hookgate serves (openapi.Build)
// to the file named by its argument; `go generate ./gateway/api` runs it.
package main

import (
	"fmt"
	"os"

	"github.com/hookgate/hookgate/gateway/api/openapi"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen OUTPUT.json")
		os.Exit(2)
	}
	doc, err := openapi.Build()
	if err == nil {
		err = os.WriteFile(os.Args[1], doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
