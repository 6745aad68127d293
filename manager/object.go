package manager

import (
	"context"
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
)

// Kind names a type of shared object that a server can hold.
type Kind string

// The kinds of SyncManager's shared objects, and KindObject for a custom
// object registered with Server.Register.
const (
	KindDict             Kind = "dict"
	KindList             Kind = "list"
	KindNamespace        Kind = "namespace"
	KindQueue            Kind = "queue"
	KindJoinableQueue    Kind = "joinable_queue"
	KindMutex            Kind = "mutex"
	KindReentrantLock    Kind = "reentrant_lock"
	KindSemaphore        Kind = "semaphore"
	KindBoundedSemaphore Kind = "bounded_semaphore"
	KindCond             Kind = "cond"
	KindEvent            Kind = "event"
	KindBarrier          Kind = "barrier"
	KindValue            Kind = "value"
	KindArray            Kind = "array"
	KindObject           Kind = "object"
)

// allKinds lists every kind.
var allKinds = []Kind{KindDict, KindList, KindNamespace, KindQueue, KindJoinableQueue, KindMutex, KindReentrantLock,
	KindSemaphore, KindBoundedSemaphore, KindCond, KindEvent, KindBarrier, KindValue, KindArray, KindObject}

// Spec describes a shared object of one of SyncManager's kinds, for
// NewShared and Options.Shared.
type Spec struct {
	// Kind is the object's kind; KindObject is not allowed here.
	Kind Kind
	// Size is the maximum size of a queue (0: unbounded), the initial value
	// of a semaphore, the number of parties of a barrier, or the length of
	// an array (of zero values). Other kinds ignore it.
	Size int
}

// object is a shared object living in the server.
type object interface {
	kind() Kind
	// blocks reports whether method may wait; such calls run in their own
	// goroutine, the others inline in the order they arrived.
	blocks(method string) bool
	// call runs a method. The result is encoded for the reply.
	call(c *call) (any, error)
}

// holder is an object that holds values, which may contain proxies.
type holder interface {
	// contents calls f with every value the object holds.
	contents(f func(cbor.RawMessage))
}

// call is one method call as an object sees it.
type call struct {
	ctx     context.Context
	method  string
	args    []cbor.RawMessage
	conn    *serverConn
	owner   uint64
	self    uint64 // the id of the object called
	noBlock bool
	srv     *Server
	// wouldBlock is set when a call that may not block found that it
	// would have to.
	wouldBlock bool
	// settle, if set, runs once the call's result was written to the
	// client (delivered) or could not be; then it puts back what the call
	// took (an item taken from a queue).
	settle func(delivered bool)
}

// tryFirst reports whether a blocking method of kind k may first be tried
// without blocking: it changes nothing before it starts to wait, so the try
// can be repeated as a blocking call if it would block. Most calls then
// finish inline, without a goroutine of their own.
func tryFirst(k Kind, method string) bool {
	switch k {
	case KindQueue, KindJoinableQueue, KindMutex, KindReentrantLock, KindSemaphore, KindBoundedSemaphore, KindEvent:
		return true
	case KindCond:
		return method == "lock"
	}
	return false
}

// arg decodes argument i into v.
func (c *call) arg(i int, v any) error {
	if i >= len(c.args) {
		return fmt.Errorf("%w: %s needs argument %d", mp.ErrProtocol, c.method, i+1)
	}
	return decode(c.args[i], v)
}

// raw returns argument i undecoded.
func (c *call) raw(i int) (cbor.RawMessage, error) {
	if i >= len(c.args) {
		return nil, fmt.Errorf("%w: %s needs argument %d", mp.ErrProtocol, c.method, i+1)
	}
	return c.args[i], nil
}

// waitErr is the error of a wait that ended without success: sentinel alone
// for a call that may not block, or sentinel and the context's error.
func (c *call) waitErr(sentinel error) error {
	if c.noBlock {
		return sentinel
	}
	return errs.WithContext(sentinel, c.ctx.Err())
}

// retain records that holder h now holds the proxies inside v.
func (c *call) retain(v cbor.RawMessage) { c.srv.retain(v) }

// release records that the proxies inside v are no longer held.
func (c *call) release(v cbor.RawMessage) { c.srv.release(v) }

func unknownMethod(k Kind, method string) error {
	return fmt.Errorf("%w: %s has no method %q", ErrKind, k, method)
}

// signal lets goroutines wait for a change of state guarded by a mutex; the
// waiters re-check their condition after every change. Its fields are
// guarded by that mutex.
type signal struct {
	ch     chan struct{} // closed by the next change; nil while nobody waits
	parked int           // goroutines waiting in waitLocked (tests read it)
}

// changedLocked wakes every waiter. Its caller holds the guarding mutex.
func (s *signal) changedLocked() {
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// waitLocked waits, with mu held on entry and on return, until cond holds
// or c's context ends (then it returns false). A call that may not block
// only checks cond.
func (s *signal) waitLocked(c *call, mu *sync.Mutex, cond func() bool) bool {
	for !cond() {
		if c.noBlock {
			c.wouldBlock = true
			return false
		}
		if s.ch == nil {
			s.ch = make(chan struct{})
		}
		ch := s.ch
		s.parked++
		mu.Unlock()
		select {
		case <-ch:
			mu.Lock()
			s.parked--
		case <-c.ctx.Done():
			mu.Lock()
			s.parked--
			return cond()
		}
	}
	return true
}
