package mp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// manyConns returns n pipe ends: more handles than one result may carry.
var manyConns = mp.Register("test.manyConns", func(ctx context.Context, n int) ([]*mp.Conn, error) {
	var out []*mp.Conn
	for len(out) < n {
		a, b, err := mp.Pipe(true)
		if err != nil {
			return nil, err
		}
		out = append(out, a, b)
	}
	return out, nil
})

func TestPoolResultWithTooManyHandles(t *testing.T) {
	mptest.CheckLeaks(t)
	p, err := mp.NewPool(mp.PoolOptions{Processes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Terminate()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = mp.Apply(ctx, p, manyConns, 260)
	// 260 handles of one or two descriptors each.
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "descriptors (a handle carries one or more), at most 200") {
		t.Fatalf("Apply of a result with 260 handles = %v (ctx %v), want an error naming the limit", err, ctx.Err())
	}
	// The worker goes on.
	conns, err := mp.Apply(ctx, p, manyConns, 4)
	if err != nil || len(conns) != 4 {
		t.Fatalf("Apply after = %d conns, %v", len(conns), err)
	}
	for _, c := range conns {
		c.Close()
	}
	p.Close()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
