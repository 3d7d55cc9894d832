package dashboard

import (
	"fmt"
	"net/http"
)

// stats is GET /api/v1/stats: the health panel's figures.
type stats struct {
	WindowSeconds int `json:"windowSeconds"`
	QueueDepth    struct {
		High   int `json:"high"`
		Normal int `json:"normal"`
		Low    int `json:"low"`
	} `json:"queueDepth"`
	Series   *statsSeries `json:"series"` // charts_page.go
	Webhooks []struct {
		WebhookID   string   `json:"webhookId"`
		URL         string   `json:"url"`
		Attempts    int      `json:"attempts"`
		Succeeded   int      `json:"succeeded"`
		SuccessRate *float64 `json:"successRate"`
		P95Ms       *float64 `json:"p95Ms"`
	} `json:"webhooks"`
}

// Window names the period of the per-webhook figures.
func (s stats) Window() string {
	if s.WindowSeconds%3600 == 0 && s.WindowSeconds > 0 {
		if s.WindowSeconds == 3600 {
			return "hour"
		}
		return fmt.Sprintf("%d hours", s.WindowSeconds/3600)
	}
	return fmt.Sprintf("%d minutes", s.WindowSeconds/60)
}

// healthPage is the small health panel.
func (d *Dashboard) healthPage(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	var st stats
	if _, err := s.api.get(r.Context(), "/api/v1/stats", chartQuery(r, ""), &st); err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "health", "Health", s, map[string]any{"Stats": st, "Charts": drawCharts(r, st.Series, "all webhooks")})
}
