package api

import (
	_ "embed"
	"encoding/json"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// openapiDoc is the OpenAPI 3.1 document we serve: Field Nation's with our
// operations and corrections, generated from openapi/*.yaml (package
// openapi). TestOpenAPIIsGenerated keeps it in step with them,
// TestOpenAPIMatchesRoutes its operations equal to the routes the app
// serves, and TestEveryAnswerMatchesTheDocument the answers to its schemas.
//
//go:generate go run ./openapi/gen openapi.json
//go:embed openapi.json
var openapiDoc []byte

// openapiCache is the document with this gateway's servers, built once.
type openapiCache struct {
	once sync.Once
	out  []byte
	err  error
}

// handleOpenAPI is GET /api/v1/openapi.json, with servers set to this
// gateway's server.public_url.
func (s *Server) handleOpenAPI(c *fiber.Ctx) error {
	oc := &s.openapi
	oc.once.Do(func() {
		var doc map[string]any
		if oc.err = json.Unmarshal(openapiDoc, &doc); oc.err != nil {
			return
		}
		doc["servers"] = []any{map[string]any{"url": s.cfg.Server.PublicURL}}
		oc.out, oc.err = json.Marshal(doc)
	})
	if oc.err != nil {
		return oc.err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(oc.out)
}
