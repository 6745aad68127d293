package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go"
)

// TestWorkerIdentityIsConfined checks that a worker's connection may not
// do what only a client may: NewPool on it fails at once with
// ErrPermission (not at its context's end), and publishing a task, which
// would let a worker make others run what it likes, is refused.
func TestWorkerIdentityIsConfined(t *testing.T) {
	c := start(t, nil)
	ctx := testCtx(t)
	wc, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Worker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()

	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := cluster.NewPool(pctx, wc, &cluster.PoolOptions{Name: "confined"}); !errors.Is(err, cluster.ErrPermission) {
		t.Fatalf("NewPool on a worker's connection = %v; want ErrPermission", err)
	}

	newPool(t, c, &cluster.PoolOptions{Name: "confined"})
	for _, subject := range []string{"mp.pool.confined.task.someone", "$JS.API.STREAM.PURGE.MPPOOL_confined", "elsewhere"} {
		if err := wc.NATS().Publish(subject, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := wc.NATS().FlushWithContext(ctx); err != nil {
			t.Fatal(err)
		}
		if err := wc.NATS().LastError(); !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("publish to %s: last error %v; want a permissions violation", subject, err)
		}
	}
}
