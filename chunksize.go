package mp

import "time"

// chunkSizer chooses the size of the chunks of an Imap: the size asked
// for, or one that adapts to how quick the items are. Adapting, it starts
// at one item, so that the first results come at once, and measures the
// items' pace once results come (the workers' start does not count): a
// chunk is then to take about chunkTime of a worker, growing at most
// twofold per measure, so that a few slow items after many quick ones do
// not wait behind a large chunk for long; and a chunk's encoded items are
// to stay under chunkBytes, so that large items do not make huge tasks.
type chunkSizer struct {
	fixed   int // the size asked for; 0 to adapt
	workers int
	size    int       // the adapted size; 0 before the first measure
	since   time.Time // when the current measure started; zero before the first result
	items   int       // items finished since then
	most    int       // the largest size chunkBytes allows; 0 before a chunk was encoded
	ceil    int       // the largest size a ReadAhead asked for allows; 0 for none
}

const (
	chunkTime   = 5 * time.Millisecond // a worker's time for an adapted chunk
	chunkMax    = 1024                 // the largest adapted chunk
	measureSpan = 2 * time.Millisecond // the least time a measure spans
	chunkBytes  = 1 << 20              // the most an adapted chunk's items take, encoded
)

// next returns the size of the next chunk.
func (s *chunkSizer) next() int {
	if s.fixed > 0 {
		return s.fixed
	}
	size := s.size
	if s.most > 0 {
		size = min(size, s.most)
	}
	if s.ceil > 0 {
		size = min(size, s.ceil)
	}
	return max(1, size)
}

// encoded records that a chunk of n items took size bytes, encoded.
func (s *chunkSizer) encoded(n, size int) {
	s.most = max(1, chunkBytes/max(1, size/n))
}

// finished records that n items finished (were yielded) at now.
func (s *chunkSizer) finished(n int, now time.Time) {
	if s.fixed > 0 {
		return
	}
	if s.since.IsZero() {
		s.since = now
		return
	}
	s.items += n
	span := now.Sub(s.since)
	if span < measureSpan {
		return
	}
	want := chunkMax
	if perItem := span * time.Duration(s.workers) / time.Duration(s.items); perItem > 0 {
		want = int(min(chunkTime/perItem, chunkMax))
	}
	s.size = min(max(want, 1), 2*s.next())

	s.since, s.items = now, 0
}
