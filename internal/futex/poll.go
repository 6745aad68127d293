//go:build !linux || mpportable

package futex

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Polling: where no kernel call waits on a word shared between processes
// (POSIX has none), or none waits on several words at once, a waiter looks
// at its words again and again, sleeping a little longer each time, up to
// maxNap. It also parks in this process's registry of pollers, so that a
// Wake from this process ends its sleep at once; a change made by another
// process is seen at the next look, at most maxNap later.
//
// A change and change back between two looks (A→B→A) is not seen: the
// poller sleeps on, where a futex waiter woken by the Wake that followed
// the change would have been woken, re-read A and (for every caller in
// lockcore) slept again. So a missed change costs nothing that a woken
// futex waiter would have gained:
//   - Cond.seq, Barrier.gen, Sem.claims and Event's word (its count of Sets
//     above the flag bit) only grow; they return to a value only after
//     2^32 changes, not within a millisecond.
//   - A Mutex's low half (the owner's pid and the waiters bit) returns to
//     its value: the lock was freed and taken again, by the same process
//     (or one with the same pid); a woken waiter would find it held and
//     sleep again (or lose the race to take it, as on Linux). A free lock
//     has no pid, a value a waiter never waits on, so a lock that stays
//     free is always seen.
//   - Sem.Value 0→1→0: a unit was released and taken by someone else; a
//     woken waiter would find 0 and sleep again. A unit that stays free is
//     seen at the next look.
//   - Barrier.count up and down: a party arrived and left (or was found
//     dead); there is nobody new to follow.
//   - A watch's alarm is this process's own word: its Wake is in-process.
// What a poller can miss is a transient state; a state that lasts is seen
// within maxNap.

const (
	// pollSpin is how long a poller looks again and again, yielding the
	// processor between looks, before its first sleep: a change a few
	// microseconds away (a short critical section in another process) is
	// seen without the cost of a timer, for a few microseconds of
	// processor time per wait.
	pollSpin = 20 * time.Microsecond
	// firstNap is a poller's first sleep; each next one is twice as long,
	// up to maxNap. (An idle Go process sleeps until its next timer in
	// kevent, with a timeout in nanoseconds, on macOS and FreeBSD; on
	// Linux in epoll_pwait, whose timeout is in milliseconds, rounded up:
	// there a nap of an idle process lasts about maxNap whatever it asks.)
	firstNap = 16 * time.Microsecond
	// maxNap bounds a poller's sleep, so how late it sees a change made by
	// another process. A millisecond keeps a handoff between processes
	// (a lock released, a queue item put) within about a millisecond, and
	// matches how soon lockcore's watches notice a dead owner; while each
	// sleeper wakes at most a thousand times a second. Measured on Linux,
	// a process with one idle sleeper spends about 3% of a processor on
	// it (most of it Go's scheduler waking and going back to sleep), with
	// ten about 5%, as their timers fire together. A tenth of maxNap
	// would cost about ten times that for every idle waiter (a pool of
	// workers on an empty queue); ten times more would make every
	// contended handoff between processes cost up to 10 ms.
	maxNap = time.Millisecond
)

// poll sleeps while every word holds its value, for at most timeout
// (forever if negative), or until a Wake in this process of one of them.
// It reports whether the timeout passed.
func poll(ws []Word, timeout time.Duration) (timedOut bool) {
	if changed(ws) {
		return false
	}
	if timeout == 0 {
		return true
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	p := park(ws)
	defer p.unpark()
	// Parked before this look: a Wake that comes after finds p, and a
	// change that came before (with its Wake) is seen here.
	for spinEnd := time.Now().Add(pollSpin); ; runtime.Gosched() {
		if changed(ws) || p.woken.Load() {
			return false
		}
		now := time.Now()
		if timeout > 0 && !now.Before(deadline) {
			return true
		}
		if !now.Before(spinEnd) {
			break
		}
	}
	var t *time.Timer
	for nap := firstNap; ; nap = min(2*nap, maxNap) {
		if changed(ws) {
			return false
		}
		d := nap
		if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return true
			}
			d = min(d, left)
		}
		if t == nil {
			t = time.NewTimer(d)
			defer t.Stop()
		} else {
			t.Reset(d)
		}
		select {
		case <-p.wake:
			return false
		case <-t.C:
		}
	}
}

// changed reports whether a word differs from its value.
func changed(ws []Word) bool {
	for _, w := range ws {
		if w.Addr.Load() != w.Val {
			return true
		}
	}
	return false
}

// A poller is a goroutine in poll, parked on its words' addresses.
type poller struct {
	ws    []Word
	woken atomic.Bool   // set by the Wake that wakes it, once
	wake  chan struct{} // signalled by that Wake
}

// pollers is this process's registry of pollers by address, in shards so
// that unrelated words do not contend on one lock. Addresses are this
// process's: two mappings of the same shared memory are two addresses, and
// a Wake through one reaches the pollers of the other only by their next
// look.
var pollers [64]pollShard

type pollShard struct {
	mu sync.Mutex
	by map[*atomic.Uint32][]*poller
}

// parked counts the pollers in the registry: a Wake with none to wake
// returns without a lock.
var parked atomic.Int64

func shardOf(addr *atomic.Uint32) *pollShard {
	a := uintptr(unsafe.Pointer(addr)) >> 2
	return &pollers[(a^a>>6)%uintptr(len(pollers))]
}

// park registers a poller on ws's addresses.
func park(ws []Word) *poller {
	p := &poller{ws: ws, wake: make(chan struct{}, 1)}
	parked.Add(1)
	for i, w := range ws {
		if seenBefore(ws, i) {
			continue
		}
		s := shardOf(w.Addr)
		s.mu.Lock()
		if s.by == nil {
			s.by = map[*atomic.Uint32][]*poller{}
		}
		s.by[w.Addr] = append(s.by[w.Addr], p)
		s.mu.Unlock()
	}
	return p
}

// unpark removes p from the registry, where a Wake has not already.
func (p *poller) unpark() {
	for i, w := range p.ws {
		if seenBefore(p.ws, i) {
			continue
		}
		s := shardOf(w.Addr)
		s.mu.Lock()
		list := s.by[w.Addr]
		for j, q := range list {
			if q == p {
				list = append(list[:j], list[j+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.by, w.Addr)
		} else {
			s.by[w.Addr] = list
		}
		s.mu.Unlock()
	}
	parked.Add(-1)
}

// seenBefore reports whether ws[i]'s address is also an earlier word's.
func seenBefore(ws []Word, i int) bool {
	for _, w := range ws[:i] {
		if w.Addr == ws[i].Addr {
			return true
		}
	}
	return false
}

// wakePollers wakes at most n pollers of this process parked on addr, the
// longest parked first, and returns how many. Pollers that another word's
// Wake woke already are dropped from addr's list without counting.
//
// The caller changed the word before: a poller that parks after the check
// of parked looks at the word after parking and sees the change (the
// atomics of both sides are sequentially consistent).
func wakePollers(addr *atomic.Uint32, n int) int {
	if parked.Load() == 0 {
		return 0
	}
	s := shardOf(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.by[addr]
	woken, i := 0, 0
	for ; i < len(list) && woken < n; i++ {
		if p := list[i]; p.woken.CompareAndSwap(false, true) {
			p.wake <- struct{}{}
			woken++
		}
	}
	if i == len(list) {
		delete(s.by, addr)
	} else {
		s.by[addr] = list[i:]
	}
	return woken
}
