package manager

import (
	"context"
	"net"
	"testing"
)

// A queue item whose reply cannot be written — the client is gone — goes
// back to the front of the queue instead of vanishing.
func TestUndeliveredItemGoesBack(t *testing.T) {
	s := NewServer(&ServerOptions{AuthKey: []byte("k")})
	obj, err := newObject(KindQueue, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Register("q", &Shared{obj: obj})
	id := s.names["q"].id
	q := obj.(*queueObj)
	for _, v := range []int{1, 2} {
		raw, err := encode(v)
		if err != nil {
			t.Fatal(err)
		}
		q.items = append(q.items, raw)
	}

	ours, theirs := net.Pipe()
	theirs.Close() // the client died: every reply fails
	c := newServerConn(context.Background(), s, ours)
	defer c.finish()
	c.dispatch(&request{ID: 1, Obj: id, Method: "get"})

	q.mu.Lock()
	defer q.mu.Unlock()
	if n := q.lenLocked(); n != 2 {
		t.Fatalf("the queue holds %d items after an undelivered get, want 2", n)
	}
	var first int
	if err := decode(q.items[q.head], &first); err != nil || first != 1 {
		t.Fatalf("front item = %d, %v; want 1, put back in its place", first, err)
	}
}
