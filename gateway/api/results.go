package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// okOne answers one object: {metadata:{timestamp,count:1,total:1}, result}.
func (s *Server) okOne(c *fiber.Ctx, result any) error {
	return c.Status(fiber.StatusOK).JSON(fiber.Map{
		"metadata": fiber.Map{"timestamp": s.now(), "count": 1, "total": 1},
		"result":   result,
	})
}

// okList answers one page: count is the items in it, total those matching
// across every page; query echoes the filters in effect.
func (s *Server) okList(c *fiber.Ctx, items any, count, total int, q listQuery, query fiber.Map) error {
	meta := fiber.Map{"timestamp": s.now(), "count": count, "total": total, "page": q.page, "perPage": q.perPage}
	if query != nil {
		meta["query"] = query
	}
	return c.Status(fiber.StatusOK).JSON(fiber.Map{"metadata": meta, "result": items})
}

func (s *Server) now() string { return s.clock.Now().UTC().Format(time.RFC3339Nano) }

// okAll answers a whole list that needs no paging (a catalog): count and
// total are its length; query echoes the filters in effect, if any.
func (s *Server) okAll(c *fiber.Ctx, items any, n int, query fiber.Map) error {
	meta := fiber.Map{"timestamp": s.now(), "count": n, "total": n}
	if query != nil {
		meta["query"] = query
	}
	return c.Status(fiber.StatusOK).JSON(fiber.Map{"metadata": meta, "result": items})
}
