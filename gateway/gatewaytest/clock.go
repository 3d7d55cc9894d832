package gatewaytest

import (
	"time"

	"github.com/hookgate/hookgate/store/storetest"
)

// ManualClock is a gateway.Clock that only moves when told to: the store
// contract's clock, so the gateway's tests and the store's move time alike.
type ManualClock = storetest.Clock

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return storetest.NewClock(t) }
