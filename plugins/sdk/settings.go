package sdk

import (
	"fmt"
	"slices"
	"strings"
)

// CheckSettingNames returns an error naming a setting that is not in known
// (the first in sorted order, so the message is stable), with the known
// names: `passwd: unknown setting (known: instance_url, table, ...)`. Call
// it first in Configure, so that a typo in a config = { ... } block fails
// instead of passing silently.
func CheckSettingNames(settings map[string]string, known []string) error {
	names := make([]string, 0, len(settings))
	for k := range settings {
		if !slices.Contains(known, k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return fmt.Errorf("%s: unknown setting (known: %s)", names[0], strings.Join(known, ", "))
}
