package cluster_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// killEngine SIGKILLs c's engine process, which c's engine then starts
// again on the same store and port.
func killEngine(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	pid := cluster.EnginePID(c)
	if pid == 0 {
		t.Fatal("no engine process")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// TestRequestsAcrossEngineKill makes requests, with a ctx without a
// deadline, while the engine's process is killed and started again: each
// waits for the engine and succeeds, a Put stores its item once, and an
// Add adds once.
func TestRequestsAcrossEngineKill(t *testing.T) {
	c := start(t, &cluster.Options{Process: true})
	ctx := context.Background()
	q, err := cluster.NewQueue[int](ctx, c, "across", nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cluster.NewValue(ctx, c, "across", 0)
	if err != nil {
		t.Fatal(err)
	}
	d, err := cluster.NewDict[string, int](ctx, c, "across")
	if err != nil {
		t.Fatal(err)
	}

	killEngine(t, c)
	if err := q.Put(ctx, 1); err != nil {
		t.Fatalf("Put across the engine's death: %v", err)
	}
	killEngine(t, c)
	if sum, err := v.Add(ctx, 5); err != nil || sum != 5 {
		t.Fatalf("Add across the engine's death = %d, %v; want 5", sum, err)
	}
	killEngine(t, c)
	if err := d.Set(ctx, "k", 3); err != nil {
		t.Fatalf("Set across the engine's death: %v", err)
	}
	killEngine(t, c)
	if got, err := q.Get(ctx); err != nil || got != 1 {
		t.Fatalf("Get across the engine's death = %d, %v; want 1", got, err)
	}

	if _, err := q.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) {
		t.Errorf("TryGet after the one item = %v, want mp.ErrEmpty (stored twice?)", err)
	}
	if got, err := v.Load(ctx); err != nil || got != 5 {
		t.Errorf("Load = %d, %v; want 5", got, err)
	}
	if got, ok, err := d.Get(ctx, "k"); err != nil || !ok || got != 3 {
		t.Errorf("Dict Get = %d, %v, %v; want 3", got, ok, err)
	}
}
