package api

import (
	"github.com/gofiber/fiber/v2"
)

// sinkView is a sink as the API lists it: never its settings, which hold
// credentials, nor which other companies may use it.
type sinkView struct {
	Name string `json:"name"`
	Type string `json:"type"` // http, servicenow, salesforce or custom
}

// handleListSinks is GET /api/v1/sinks: the sinks the caller's company may
// name in a webhook, the built-in http first. Other companies' sinks are
// not listed, as create and update refuse them like unknown names.
func (s *Server) handleListSinks(c *fiber.Ctx) error {
	usable := s.sinkAccess.Usable(ClaimsOf(c).CompanyID)
	out := make([]sinkView, len(usable))
	for i, s := range usable {
		out[i] = sinkView{Name: s.Name, Type: s.Kind()}
	}
	return s.okAll(c, out, len(out), nil)
}
