package api

import (
	"container/heap"
	"slices"
)

// topK keeps the k first items of a stream in a strict order, in memory
// for k items however long the stream: a heap whose root is the last of
// those kept, replaced whenever an item comes before it.
type topK[T any] struct {
	k      int
	before func(a, b T) bool // strict: never true both ways
	items  []T
}

func newTopK[T any](k int, before func(a, b T) bool) *topK[T] {
	return &topK[T]{k: k, before: before}
}

// offer keeps x if it is among the k first seen so far.
func (t *topK[T]) offer(x T) {
	switch {
	case t.k <= 0:
	case len(t.items) < t.k:
		heap.Push((*topHeap[T])(t), x)
	case t.before(x, t.items[0]):
		t.items[0] = x
		heap.Fix((*topHeap[T])(t), 0)
	}
}

// sorted returns the kept items in order.
func (t *topK[T]) sorted() []T {
	slices.SortFunc(t.items, func(a, b T) int {
		if t.before(a, b) {
			return -1
		}
		return 1
	})
	return t.items
}

// topHeap is topK as a container/heap max-heap: the root comes last.
type topHeap[T any] topK[T]

func (h *topHeap[T]) Len() int           { return len(h.items) }
func (h *topHeap[T]) Less(i, j int) bool { return h.before(h.items[j], h.items[i]) }
func (h *topHeap[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topHeap[T]) Push(x any)         { h.items = append(h.items, x.(T)) }
func (h *topHeap[T]) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
