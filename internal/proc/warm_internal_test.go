package proc

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// A spare killed while it waits for work is replaced: WarmUp gets a live
// one again instead of waiting for ever.
func TestWarmUpReplacesDeadSpare(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WarmUp(ctx, 1); err != nil {
		t.Fatal(err)
	}
	warm.mu.Lock()
	c := warm.spares[0]
	warm.mu.Unlock()
	c.Signal(syscall.SIGKILL)
	<-c.done
	if err := WarmUp(ctx, 1); err != nil {
		t.Fatalf("WarmUp after the spare died: %v", err)
	}
	warm.mu.Lock()
	defer warm.mu.Unlock()
	for _, s := range warm.spares {
		if s == c {
			t.Fatal("the dead spare is still in the pool")
		}
	}
}
