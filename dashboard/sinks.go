package dashboard

import (
	"context"
)

// sinkChoice is one option of the webhook form's sink field.
type sinkChoice struct {
	Name, Type string
	Selected   bool
	// Unavailable marks the webhook's current sink when its company may no
	// longer use it: shown, so the form never switches sinks behind the
	// user's back, and refused by the API if saved.
	Unavailable bool
}

// sinkChoices asks the API which sinks the user's company may use (GET
// /api/v1/sinks lists only those) and marks current as selected.
func sinkChoices(ctx context.Context, api *apiClient, current string) ([]sinkChoice, error) {
	var list []struct{ Name, Type string }
	if _, err := api.get(ctx, "/api/v1/sinks", nil, &list); err != nil {
		return nil, err
	}
	out := make([]sinkChoice, 0, len(list)+1)
	found := false
	for _, s := range list {
		sel := s.Name == current
		found = found || sel
		out = append(out, sinkChoice{Name: s.Name, Type: s.Type, Selected: sel})
	}
	if !found && current != "" {
		out = append(out, sinkChoice{Name: current, Selected: true, Unavailable: true})
	}
	return out, nil
}
