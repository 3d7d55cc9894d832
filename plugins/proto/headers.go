package sinkpb

// PackHeaders returns h as the flat name, value, name, value, ... list that
// DeliverRequest.Headers and DeliverResult.Headers carry; nil when h is
// empty.
func PackHeaders(h map[string]string) []string {
	if len(h) == 0 {
		return nil
	}
	pairs := make([]string, 0, 2*len(h))
	for k, v := range h {
		pairs = append(pairs, k, v)
	}
	return pairs
}

// UnpackHeaders turns a flat name, value, ... list back into a map; nil
// when the list is empty. A trailing name without a value gets "".
func UnpackHeaders(pairs []string) map[string]string {
	if len(pairs) == 0 {
		return nil
	}
	h := make(map[string]string, (len(pairs)+1)/2)
	for i := 0; i < len(pairs); i += 2 {
		var v string
		if i+1 < len(pairs) {
			v = pairs[i+1]
		}
		h[pairs[i]] = v
	}
	return h
}
