package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the file in a store directory that an engine holds locked
// while it runs. nats-server itself takes no lock on its store, and two
// servers writing one store corrupt it.
const lockName = "mp-engine.lock"

// lockStore locks the store directory dir for one engine, or fails with
// ErrStoreInUse (and ErrEngine). The lock goes with the returned file, and with the
// process however it ends.
func lockStore(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEngine, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %w: %s", ErrEngine, ErrStoreInUse, dir)
		}
		return nil, fmt.Errorf("%w: lock %s: %w", ErrEngine, dir, err)
	}
	return f, nil
}
