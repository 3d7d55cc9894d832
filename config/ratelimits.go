package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// MaxRate bounds a rate_limit: a limit this high limits nothing a gateway
// can send, and a typo ("20000/s" for "20/s") is more likely than the need.
const MaxRate = 100000.0 // per second

// rateUnits are the units a rate_limit may be written in.
var rateUnits = map[string]float64{"s": 1, "m": 60, "h": 3600}

// ParseRate reads a delivery rate limit such as "20/s", "600/m" or
// "1000/h" and returns it per second. The empty string is no limit (0).
func ParseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	per, known := rateUnits[strings.TrimSpace(unit)]
	if !ok || !known {
		return 0, fmt.Errorf("%q is not a rate: write a count per second, minute or hour, such as \"20/s\", \"600/m\" or \"1000/h\"", s)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a rate: the count before the / must be a number above 0, such as \"20/s\"", s)
	}
	if n/per > MaxRate {
		return 0, fmt.Errorf("%q is over the highest rate limit, %g/s", s, MaxRate)
	}
	return n / per, nil
}

// RateLimit is a delivery rate limit as a webhook or sink block writes it.
type RateLimit struct {
	Rate  string // "20/s"; empty: no limit
	Burst int    // attempts at once after an idle spell; 0: delivery.rate_burst
}

// checkRateLimit validates the rate_limit, rate_burst (and, for webhooks,
// max_in_flight) attributes of block p, pointing at the attribute.
func (d *decoder) checkRateLimit(p string, r RateLimit, block hcl.Range) {
	at := func(name string) hcl.Range { return d.rangeOf(attrPath(p, name), block) }
	if _, err := ParseRate(r.Rate); err != nil {
		d.errorf(at("rate_limit"), "invalid rate_limit for "+p, "%s", err)
	}
	if _, set := d.ranges[attrPath(p, "rate_burst")]; set {
		switch {
		case r.Burst < 1:
			d.errorf(at("rate_burst"), fmt.Sprintf("invalid rate_burst for %s: %d", p, r.Burst), "must be at least 1: how many attempts may go at once after an idle spell")
		case r.Rate == "":
			d.errorf(at("rate_burst"), "rate_burst without rate_limit in "+p, "rate_burst sizes the bucket of rate_limit; set rate_limit too, such as \"20/s\"")
		}
	}
}
