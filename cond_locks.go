package mp

import (
	"context"

	"github.com/mpgo/mp/internal/shmem"
	"golang.org/x/sys/unix"
)

// mutexCond is a Mutex as the lock of a Cond. The holder of a Mutex is a
// process, so "held by the caller" means held by this process.
type mutexCond struct{ m *Mutex }

func (c mutexCond) lock(ctx context.Context) (context.Context, error) { return ctx, c.m.Lock(ctx) }
func (c mutexCond) unlock(context.Context) error                      { return c.m.Unlock() }
func (c mutexCond) held(context.Context) bool                         { return c.m.st != nil && c.m.st.HeldBySelf() }
func (c mutexCond) release(context.Context) (uint32, error)           { return 1, c.m.Unlock() }
func (c mutexCond) reacquire(ctx context.Context, _ uint32) error     { return c.m.Lock(ctx) }
func (c mutexCond) locked() bool                                      { return c.m.Locked() }
func (c mutexCond) region() *shmem.Region                             { return c.m.r }
func (c mutexCond) kind() uint16                                      { return shmem.KindMutex }
func (c mutexCond) close() error                                      { return c.m.Close() }

// rlockCond is a ReentrantLock as the lock of a Cond: Wait releases every
// level and restores them.
type rlockCond struct{ l *ReentrantLock }

func (c rlockCond) lock(ctx context.Context) (context.Context, error) { return c.l.Lock(ctx) }
func (c rlockCond) unlock(ctx context.Context) error                  { return c.l.Unlock(ctx) }
func (c rlockCond) held(ctx context.Context) bool                     { return c.l.Owned(ctx) }
func (c rlockCond) locked() bool                                      { return c.l.Locked() }
func (c rlockCond) region() *shmem.Region                             { return c.l.r }
func (c rlockCond) kind() uint16                                      { return shmem.KindReentrantLock }
func (c rlockCond) close() error                                      { return c.l.Close() }

func (c rlockCond) release(ctx context.Context) (uint32, error) {
	t, _ := ctx.Value(ownerKey{}).(uint64)
	n, err := c.l.st.Release(t)
	return n, lockError(err)
}

func (c rlockCond) reacquire(ctx context.Context, depth uint32) error {
	t, _ := ctx.Value(ownerKey{}).(uint64)
	died, err := c.l.st.Reacquire(ctx, t, depth)
	if err != nil {
		return lockError(err)
	}
	return ownerDied(died)
}

// unixClose closes a descriptor, ignoring errors.
func unixClose(fd int) { unix.Close(fd) }
