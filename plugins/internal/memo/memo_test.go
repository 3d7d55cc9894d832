package memo

import (
	"strconv"
	"testing"
)

// TestMemo: a value is computed once per input, and the memo never holds
// more than Max entries however many inputs it sees.
func TestMemo(t *testing.T) {
	calls := 0
	m := &Memo[int]{F: func(s string) int { calls++; return len(s) }, Max: 3}
	for range 3 {
		if m.Get("abcd") != 4 {
			t.Fatal("wrong value")
		}
	}
	if calls != 1 {
		t.Fatalf("computed %d times, want once", calls)
	}
	for i := range 10 {
		if got := m.Get(strconv.Itoa(i * 100)); got != len(strconv.Itoa(i*100)) {
			t.Fatalf("Get(%d) = %d", i*100, got)
		}
		if len(m.m) > 3 {
			t.Fatalf("%d entries kept, Max is 3", len(m.m))
		}
	}
}
