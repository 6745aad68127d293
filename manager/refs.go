package manager

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Reference counting, as Python's managers do it: an object made at a
// client's request lives while something refers to it — a proxy in some
// process (counted on that process's connection), or a container of the
// same server holding a proxy to it (a dict of lists). A connection that
// ends drops all its references. An object nobody refers to any more is
// freed after ServerOptions.ReleaseDelay, unless a proxy on its way to
// another process takes a reference first.

// addObject puts a new object in the table with one reference held by c.
func (s *Server) addObject(c *serverConn, obj object, types []string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := s.nextID
	s.objects[id] = &entry{obj: obj, refs: 1, types: types}
	c.refs[id]++
	return id
}

// object returns the object with the given id.
func (s *Server) object(id uint64) (object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.objects[id]
	if !ok {
		return nil, fmt.Errorf("%w: object %d does not exist (any more)", ErrNotFound, id)
	}
	return e.obj, nil
}

// incref adds a reference to id held by c (nil: by a container).
func (s *Server) incref(c *serverConn, id uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.objects[id]
	if !ok {
		return fmt.Errorf("%w: object %d does not exist (any more)", ErrNotFound, id)
	}
	e.refs++
	delete(s.dying, id)
	if c != nil {
		c.refs[id]++
	}
	return nil
}

// decref drops n references to id held by c (nil: by a container). A
// connection cannot drop references it does not hold.
func (s *Server) decref(c *serverConn, id uint64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c != nil {
		n = min(n, c.refs[id])
		if c.refs[id] -= n; c.refs[id] <= 0 {
			delete(c.refs, id)
		}
	}
	e, ok := s.objects[id]
	if !ok || n <= 0 {
		return
	}
	e.refs -= n
	if e.refs <= 0 && !e.pinned {
		s.dying[id] = s.now().Add(s.releaseDelay())
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// dropConn drops every reference c holds.
func (s *Server) dropConn(c *serverConn) {
	s.mu.Lock()
	refs := c.refs
	c.refs = map[uint64]int{}
	s.mu.Unlock()
	for id, n := range refs {
		s.decref(nil, id, n)
	}
}

func (s *Server) releaseDelay() time.Duration {
	switch d := s.opts.ReleaseDelay; {
	case d < 0:
		return 0
	case d == 0:
		return 10 * time.Second
	default:
		return d
	}
}

// now returns the time by which release delays are measured.
func (s *Server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// janitor frees objects whose release delay has passed. Freeing happens
// here, with no lock held, because freeing a container releases what it
// holds, which may free more.
func (s *Server) janitor(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		next := s.freeDue()
		t.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// freeDue frees the objects that are due and returns how long to wait for
// the next.
func (s *Server) freeDue() time.Duration {
	next := time.Hour
	now := s.now()
	var due []object
	s.mu.Lock()
	for id, at := range s.dying {
		if wait := at.Sub(now); wait > 0 {
			next = min(next, wait)
			continue
		}
		delete(s.dying, id)
		if e, ok := s.objects[id]; ok && e.refs <= 0 {
			delete(s.objects, id)
			due = append(due, e.obj)
		}
	}
	s.mu.Unlock()
	for _, obj := range due {
		if h, ok := obj.(holder); ok {
			h.contents(func(v cbor.RawMessage) { s.release(v) })
		}
	}
	if len(due) > 0 {
		return 0 // freeing may have made more objects due
	}
	return next
}

// proxyPrefix is how an encoded proxy begins: its CBOR tag.
var proxyPrefix = binary.BigEndian.AppendUint32([]byte{0xda}, proxyTag)

// retain adds a reference for every proxy to this server inside v, an
// encoded value a container now holds.
func (s *Server) retain(v cbor.RawMessage) {
	for _, id := range s.proxiesIn(v) {
		s.incref(nil, id)
	}
}

// release drops the references retain added for v.
func (s *Server) release(v cbor.RawMessage) {
	for _, id := range s.proxiesIn(v) {
		s.decref(nil, id, 1)
	}
}

// proxiesIn returns the ids of the proxies to this server inside v.
func (s *Server) proxiesIn(v cbor.RawMessage) []uint64 {
	if !bytes.Contains(v, proxyPrefix) {
		return nil
	}
	var tree any
	if decode(v, &tree) != nil {
		return nil
	}
	var ids []uint64
	walkProxies(tree, func(p proxyForm) {
		if p.Server == s.id {
			ids = append(ids, p.ID)
		}
	})
	return ids
}

// walkProxies calls f for every proxy in a decoded value.
func walkProxies(v any, f func(proxyForm)) {
	switch v := v.(type) {
	case cbor.Tag:
		if v.Number == proxyTag {
			var p proxyForm
			if data, err := cbor.Marshal(v.Content); err == nil && decode(data, &p) == nil {
				f(p)
			}
			return
		}
		walkProxies(v.Content, f)
	case []any:
		for _, x := range v {
			walkProxies(x, f)
		}
	case map[any]any:
		for k, x := range v {
			walkProxies(k, f)
			walkProxies(x, f)
		}
	}
}
