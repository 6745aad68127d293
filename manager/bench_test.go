package manager_test

import (
	"context"
	"testing"

	"github.com/mpgo/mp/manager"
)

func BenchmarkDictSetLocalServer(b *testing.B) {
	ctx := context.Background()
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	ln, err := manager.Listen("@mp-manager-bench")
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() { cancel(); <-done }()
	c, err := manager.Dial(ctx, ln.Addr().String(), &manager.DialOptions{AuthKey: key})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	d, err := manager.NewDict[int, int](ctx, c, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Set(ctx, i%100, i); err != nil {
			b.Fatal(err)
		}
	}
}
