package lockcore

import "sync"

// watcher follows each process that waiters of this process follow, and
// rings their alarms when it exits. How it follows a process is the
// mechanism's (watcher_pidfd.go, watcher_poll.go): a process nobody waits
// on costs nothing, and following one is paid only by a waiter that goes
// to sleep.
var watcher watchers

type watchers struct {
	// mu guards owners and the fields of every vigil in it, and the
	// mechanism's state.
	mu     sync.Mutex
	owners map[uint64]*vigil
	// running counts the mechanism's goroutines: idle waits for them.
	running sync.WaitGroup
}

// A vigil (each mechanism's type) is the watcher's lookout for one owner
// and the watches that follow it: its id, watches and exited fields are
// the registry's, the others the mechanism's.

// register adds w to the followers of id, following id if nobody did. An
// owner that has exited already rings w at once; one that cannot be
// followed (out of descriptors, refused) is left to the backstop.
func (ws *watchers) register(id uint64, w *watch) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	v := ws.owners[id]
	if v == nil {
		v = &vigil{id: id}
		ws.followLocked(v)
		if ws.owners == nil {
			ws.owners = map[uint64]*vigil{}
		}
		ws.owners[id] = v
	}
	v.watches = append(v.watches, w)
	if v.exited {
		w.ring()
	}
}

// fireLocked rings the alarms of v's followers; later ones are rung as
// they register.
func (ws *watchers) fireLocked(v *vigil) {
	if ws.owners[v.id] != v {
		return // forgotten meanwhile
	}
	v.exited = true
	for _, w := range v.watches {
		w.ring()
	}
}

// forget removes w from the followers of id; the last one out stops
// following the process.
func (ws *watchers) forget(id uint64, w *watch) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	v := ws.owners[id]
	if v == nil {
		return
	}
	for i, x := range v.watches {
		if x == w {
			v.watches = append(v.watches[:i], v.watches[i+1:]...)
			break
		}
	}
	if len(v.watches) > 0 {
		return
	}
	delete(ws.owners, id)
	ws.unfollowLocked(v)
}

// idle waits until no goroutine of the mechanism runs: every owner
// followed has been forgotten, and what held it released.
func (ws *watchers) idle() { ws.running.Wait() }
