package store

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatLogID joins a delivery uuid and an attempt number as "uuid:attempt",
// the form of the X-FN-Delivery-Id header and of delivery-log ids.
func FormatLogID(deliveryID string, attempt int) string {
	return deliveryID + ":" + strconv.Itoa(attempt)
}

// ParseLogID splits "uuid:attempt". A bare uuid returns attempt 0.
func ParseLogID(s string) (deliveryID string, attempt int, err error) {
	id, n, found := strings.Cut(s, ":")
	if !found {
		return s, 0, nil
	}
	attempt, err = strconv.Atoi(n)
	if err != nil || attempt < 1 {
		return "", 0, fmt.Errorf("delivery id %q: attempt after ':' must be a positive number", s)
	}
	return id, attempt, nil
}
