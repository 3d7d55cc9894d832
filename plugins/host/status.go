package host

import (
	"cmp"
	"slices"
)

// SinkStatus is a snapshot of one sink, for health endpoints and tests.
type SinkStatus struct {
	Name     string
	PID      int    // the current process, 0 while none runs
	Up       bool   // a live process is accepting deliveries
	Restarts int    // processes started after the first
	LastErr  string // why the last process stopped, or why restarting fails
	Protocol int    // the contract version the current process speaks (sdk.ProtocolV2, V3)
}

// Status reports every sink, sorted by name.
func (h *Host) Status() []SinkStatus {
	h.mu.Lock()
	sups := make([]*supervisor, 0, len(h.sinks))
	for _, s := range h.sinks {
		sups = append(sups, s)
	}
	h.mu.Unlock()
	out := make([]SinkStatus, 0, len(sups))
	for _, s := range sups {
		out = append(out, s.status())
	}
	slices.SortFunc(out, func(a, b SinkStatus) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (s *supervisor) status() SinkStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SinkStatus{Name: s.spec.Name, Restarts: s.restarts}
	if s.lastErr != nil {
		st.LastErr = s.lastErr.Error()
	}
	if p := s.cur; p != nil && !p.isDead() {
		st.Up = true
		st.Protocol = p.protocol
		if p.cmd.Process != nil {
			st.PID = p.cmd.Process.Pid
		}
	}
	return st
}
