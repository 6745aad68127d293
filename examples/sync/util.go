package sync

import (
	"context"
	"errors"
	"github.com/mpgo/mp/examples"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp"
)

// The seeds sleep for seconds; these ports sleep a tenth as long, so that
// the tour stays short. The behaviour they show does not change.
const second = 100 * time.Millisecond

// randomSleep is Python's time.sleep(random.random()), scaled.
func randomSleep(ctx context.Context) { examples.Sleep(ctx, rand.N(second)) }

// waitAll waits for every process and returns the first error.
func waitAll(ctx context.Context, ps []*mp.Process) error {
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.Wait(ctx))
		p.Close()
	}
	return errors.Join(errs...)
}

// occupancy counts who is inside a critical region and the most there ever
// were, in two int32 of shared memory.
type occupancy []int32

func (o occupancy) enter() {
	n := atomic.AddInt32(&o[0], 1)
	for m := atomic.LoadInt32(&o[1]); n > m && !atomic.CompareAndSwapInt32(&o[1], m, n); m = atomic.LoadInt32(&o[1]) {
	}
}

func (o occupancy) leave() { atomic.AddInt32(&o[0], -1) }

func (o occupancy) most() int32 { return atomic.LoadInt32(&o[1]) }
