package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/hookgate/hookgate/gateway/ingest"
)

// fixedClock is a Clock stopped at one time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestPublishAnswerAsOk: the 202 a publish writes by hand is byte for byte
// what ok and json.Marshal would write.
func TestPublishAnswerAsOk(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 1, 20, 14, 55, 58, 123456700, time.FixedZone("", -6*3600)),
		time.Date(2026, 1, 20, 14, 55, 58, 0, time.UTC),
	} {
		s := &Server{clock: fixedClock(now)}
		res := ingest.Result{EventID: uuid.NewString(), TraceID: uuid.NewString(), Deliveries: 12}
		want, _ := json.Marshal(res)
		if got := res.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON = %s, json.Marshal = %s", got, want)
		}
		app := fiber.New()
		app.Get("/ok", func(c *fiber.Ctx) error { return s.ok(c, fiber.StatusAccepted, res) })
		app.Get("/accepted", func(c *fiber.Ctx) error { return s.okAccepted(c, res.AppendJSON(nil)) })
		answer := func(path string) string {
			resp, err := app.Test(httptest.NewRequest("GET", path, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if got, want := answer("/accepted"), answer("/ok"); got != want {
			t.Errorf("okAccepted answers\n%s\ng.ok answers\n%s", got, want)
		}
	}
}
