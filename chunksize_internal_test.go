package mp

import (
	"testing"
	"time"
)

// The adapted chunk starts at one item, grows at most twofold per measure
// while items are quick, stays at one for slow items, and keeps under its
// bounds.
func TestChunkSizer(t *testing.T) {
	for _, c := range []struct {
		name    string
		s       chunkSizer
		perItem time.Duration // a worker's time per item
		want    []int         // next() after each measure
	}{
		{"quick items grow to the bound", chunkSizer{workers: 2}, time.Microsecond, []int{2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1024}},
		{"20 µs items", chunkSizer{workers: 2}, 20 * time.Microsecond, []int{2, 4, 8, 16, 32, 64, 128, 250, 250}},
		{"slow items stay single", chunkSizer{workers: 4}, 10 * time.Millisecond, []int{1, 1, 1}},
		{"a fixed chunk", chunkSizer{workers: 2, fixed: 7}, time.Microsecond, []int{7, 7}},
		{"a ReadAhead's ceiling", chunkSizer{workers: 2, ceil: 5}, time.Microsecond, []int{2, 4, 5, 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.s
			if got := s.next(); got != max(1, c.s.fixed) {
				t.Fatalf("first chunk = %d", got)
			}
			now := time.Unix(1000, 0)
			s.finished(1, now) // the first result starts the measures
			for i, want := range c.want {
				// Items finish at the pace of the workers, for one
				// measure's span.
				n := int(measureSpan * time.Duration(s.workers) / c.perItem)
				if n == 0 {
					n = 1
				}
				now = now.Add(time.Duration(n) * c.perItem / time.Duration(s.workers))
				s.finished(n, now)
				if got := s.next(); got != want {
					t.Fatalf("after measure %d: next() = %d, want %d", i, got, want)
				}
			}
		})
	}
}

// Large items keep an adapted chunk under chunkBytes.
func TestChunkSizerBytes(t *testing.T) {
	s := chunkSizer{workers: 2, size: 1024}
	s.encoded(10, 10<<16) // 64 KiB an item
	if got := s.next(); got != 16 {
		t.Errorf("next() = %d with 64 KiB items, want 16", got)
	}
	s.encoded(1, 8<<20)
	if got := s.next(); got != 1 {
		t.Errorf("next() = %d with 8 MiB items, want 1", got)
	}
}
