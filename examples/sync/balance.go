package sync

import (
	"context"
	"fmt"
	"io"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/shm"
)

func init() {
	examples.Add(examples.Example{Seed: 86, Topic: "sync", Name: "balance-lock", Title: "two processes change a shared balance a million times under its lock: 0", Run: balance})
}

type changer struct {
	Balance *shm.Value[int64]
	N       int64
}

// runChanges deposits and withdraws n a million times, each pair under the
// balance's lock.
func runChanges(ctx context.Context, c changer) error {
	p := c.Balance.Ptr()
	for range 1_000_000 {
		if err := c.Balance.Lock(ctx); err != nil {
			return err
		}
		*p = *p + c.N // change_it: deposit, then withdraw
		*p = *p - c.N
		c.Balance.Unlock()
	}
	return nil
}

var changeIt = mp.Register("examples.sync.changeIt", func(ctx context.Context, c changer) (struct{}, error) {
	defer c.Balance.Close()
	return struct{}{}, runChanges(ctx, c)
})

// balance is seed 86 with processes instead of threads: the balance is an
// shm.Value in shared memory and its lock an mp.Mutex. One changer runs in
// a child process, the other in this one, at the same time.
func balance(ctx context.Context, w io.Writer) error {
	b, err := shm.NewValue(int64(0))
	if err != nil {
		return err
	}
	defer b.Close()
	p := mp.Command(changeIt, changer{b, 8})
	p.Stdout = w
	if err := p.Start(); err != nil {
		return err
	}
	defer p.Close()
	err = runChanges(ctx, changer{b, 5})
	if err := joinErr(err, p.Wait(ctx)); err != nil {
		return err
	}
	fmt.Fprintln(w, b.Load())
	return nil
}
