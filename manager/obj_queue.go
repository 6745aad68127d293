package manager

import (
	"sync"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
)

// queueObj is a FIFO queue of encoded values, optionally bounded and
// joinable (Python: queue.Queue, as a manager serves it).
type queueObj struct {
	maxSize  int // 0: unbounded
	joinable bool
	// mu guards everything below.
	mu         sync.Mutex
	items      []cbor.RawMessage
	head       int // items[head:] are queued
	unfinished int // items put and not yet marked done
	sig        signal
}

func (q *queueObj) kind() Kind {
	if q.joinable {
		return KindJoinableQueue
	}
	return KindQueue
}

func (q *queueObj) blocks(method string) bool {
	return method == "get" || method == "put" || method == "join"
}

func (q *queueObj) contents(f func(cbor.RawMessage)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, v := range q.items[q.head:] {
		f(v)
	}
}

// lenLocked returns the number of items queued.
func (q *queueObj) lenLocked() int { return len(q.items) - q.head }

func (q *queueObj) call(c *call) (any, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch c.method {
	case "put":
		return nil, q.putLocked(c)
	case "get":
		return q.getLocked(c)
	case "putback":
		// An item a client took and could not decode: it goes back where
		// it was, still counted as unfinished.
		v, err := c.raw(0)
		if err != nil {
			return nil, err
		}
		c.retain(v)
		q.putBackLocked(v)
		return nil, nil
	case "len":
		return q.lenLocked(), nil
	case "full":
		return q.maxSize > 0 && q.lenLocked() >= q.maxSize, nil
	}
	if !q.joinable {
		return nil, unknownMethod(KindQueue, c.method)
	}
	switch c.method {
	case "task_done":
		if q.unfinished == 0 {
			return nil, mp.ErrTooManyReleases
		}
		q.unfinished--
		q.sig.changedLocked()
		return nil, nil
	case "join":
		if !q.sig.waitLocked(c, &q.mu, func() bool { return q.unfinished == 0 }) {
			return nil, c.waitErr(mp.ErrTimeout)
		}
		return nil, nil
	}
	return nil, unknownMethod(KindJoinableQueue, c.method)
}

// putLocked appends c's item, waiting while the queue is full.
func (q *queueObj) putLocked(c *call) error {
	v, err := c.raw(0)
	if err != nil {
		return err
	}
	if !q.sig.waitLocked(c, &q.mu, func() bool { return q.maxSize <= 0 || q.lenLocked() < q.maxSize }) {
		return c.waitErr(mp.ErrFull)
	}
	c.retain(v)
	q.items = append(q.items, v)
	q.unfinished++
	q.sig.changedLocked()
	return nil
}

// getLocked takes the first item, waiting while the queue is empty.
func (q *queueObj) getLocked(c *call) (any, error) {
	if !q.sig.waitLocked(c, &q.mu, func() bool { return q.lenLocked() > 0 }) {
		return nil, c.waitErr(mp.ErrEmpty)
	}
	v := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head > 64 && q.head*2 > len(q.items) {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	q.sig.changedLocked()
	// The proxies inside v stay held until v has reached the client: if it
	// cannot, it goes back to the queue as it was.
	c.settle = func(delivered bool) {
		if delivered {
			c.release(v)
		} else {
			q.putBack(v)
		}
	}
	return v, nil
}

// putBack returns an item that get took, and that could not be delivered,
// to the front of the queue. A bounded queue may hold one item over its
// size for a while: the item was there before.
func (q *queueObj) putBack(v cbor.RawMessage) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.putBackLocked(v)
}

func (q *queueObj) putBackLocked(v cbor.RawMessage) {
	if q.head > 0 {
		q.head--
		q.items[q.head] = v
	} else {
		q.items = append(q.items, nil)
		copy(q.items[1:], q.items)
		q.items[0] = v
	}
	q.sig.changedLocked()
}
