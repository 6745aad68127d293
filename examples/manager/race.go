package manager

import (
	"context"
	"fmt"
	"io"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/manager"
)

func init() {
	examples.Add(examples.Example{Seed: 65, Topic: "manager", Name: "manager-dict-race", Title: "100 processes decrement a manager dict without a lock: updates are lost", Run: dictRace})
	examples.Add(examples.Example{Seed: 66, Topic: "manager", Name: "manager-dict-lock", Title: "the same decrements with a manager lock, and with Dict.Add", Run: dictLock})
}

// counterArg is what each decrementing process gets.
type counterArg struct {
	D    *manager.Dict[string, int]
	Lock *manager.Mutex // nil: no lock
}

// getAndSet is Python's dic['count'] -= 1 on a proxy: a get, then a set,
// two round trips that other processes can come between.
func getAndSet(ctx context.Context, d *manager.Dict[string, int]) error {
	n, _, err := d.Get(ctx, "count")
	if err != nil {
		return err
	}
	return d.Set(ctx, "count", n-1)
}

var decrementOnce = mp.Register("examples.manager.decrementOnce", func(ctx context.Context, a counterArg) (struct{}, error) {
	if a.Lock == nil {
		return struct{}{}, getAndSet(ctx, a.D)
	}
	if err := a.Lock.Lock(ctx); err != nil { // with lock:
		return struct{}{}, err
	}
	defer a.Lock.Unlock(ctx)
	return struct{}{}, getAndSet(ctx, a.D)
})

var addOnce = mp.Register("examples.manager.addOnce", func(ctx context.Context, d *manager.Dict[string, int]) (struct{}, error) {
	_, err := d.Add(ctx, "count", -1) // one atomic step in the manager
	return struct{}{}, err
})

// decrementAll runs 100 processes made by cmd on a dict {'count': 100} and
// returns the dict.
func decrementAll(ctx context.Context, m *manager.Client, cmd func(d *manager.Dict[string, int]) *mp.Process) (map[string]int, error) {
	d, err := manager.NewDict(ctx, m, map[string]int{"count": 100})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	procs := make([]*mp.Process, 100)
	for i := range procs {
		procs[i] = cmd(d)
	}
	if err := runAll(ctx, procs); err != nil {
		return nil, err
	}
	return d.Copy(ctx)
}

// dictRace is seed 65: the count should be 0, but lost updates usually
// leave it above.
func dictRace(ctx context.Context, w io.Writer) error {
	m, err := manager.Start(ctx, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	got, err := decrementAll(ctx, m, func(d *manager.Dict[string, int]) *mp.Process {
		return mp.Command(decrementOnce, counterArg{D: d})
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, pyDict(got))
	return nil
}

// dictLock is seed 66: with a manager lock the count is always 0; Dict.Add
// gets there without a lock.
func dictLock(ctx context.Context, w io.Writer) error {
	m, err := manager.Start(ctx, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	examples.Note(w, "the seed's multiprocessing.Lock reaches its children by fork; mp has no fork, so the lock must be a value a child can be sent: a manager's Mutex, held by the manager like the dict (an mp.Mutex in shared memory would do as well)")
	lock, err := manager.NewMutex(ctx, m)
	if err != nil {
		return err
	}
	got, err := decrementAll(ctx, m, func(d *manager.Dict[string, int]) *mp.Process {
		return mp.Command(decrementOnce, counterArg{D: d, Lock: lock})
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, pyDict(got))
	got, err = decrementAll(ctx, m, func(d *manager.Dict[string, int]) *mp.Process {
		return mp.Command(addOnce, d)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "with Dict.Add and no lock:", pyDict(got))
	return nil
}
