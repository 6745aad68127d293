package mp_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// Go memory guarded by mp's locks must not be reported by the race detector:
// under -race, these tests fail with "race detected" if a lock does not tell
// the detector about the ordering it gives.
func TestLocksOrderGoMemory(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rl, err := mp.NewReentrantLock()
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	sem, err := mp.NewSemaphore(1)
	if err != nil {
		t.Fatal(err)
	}
	defer sem.Close()
	guards := map[string]struct{ lock, unlock func() }{
		"Mutex":     {func() { m.Lock(ctx) }, func() { m.Unlock() }},
		"Semaphore": {func() { sem.Acquire(ctx) }, func() { sem.Release() }},
	}
	for name, g := range guards {
		counter := 0
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 500 {
					g.lock()
					counter++
					g.unlock()
				}
			})
		}
		wg.Wait()
		if counter != 2000 {
			t.Errorf("%s: counter = %d, want 2000", name, counter)
		}
	}
	counter := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				octx, err := rl.Lock(mp.NewOwner(ctx))
				if err != nil {
					t.Error(err)
					return
				}
				counter++
				rl.Unlock(octx)
			}
		})
	}
	wg.Wait()
	if counter != 2000 {
		t.Errorf("ReentrantLock: counter = %d, want 2000", counter)
	}
}
