package transport_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/mpgo/mp/internal/transport"
)

func benchOneWay(b *testing.B, size int) {
	a, c, err := transport.Pair()
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	defer c.Close()
	ctx := context.Background()
	msg := bytes.Repeat([]byte("x"), size)
	b.SetBytes(int64(size))
	done := make(chan error, 1)
	go func() {
		for range b.N {
			m, err := c.Recv(ctx)
			if err != nil {
				done <- err
				return
			}
			m.Close()
		}
		done <- nil
	}()
	for range b.N {
		if err := a.Send(ctx, transport.Msg{Data: msg}); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

func BenchmarkOneWay64B(b *testing.B)  { benchOneWay(b, 64) }
func BenchmarkOneWay1MiB(b *testing.B) { benchOneWay(b, 1<<20) }

func BenchmarkOneWay64KiB(b *testing.B)  { benchOneWay(b, 64<<10) }
func BenchmarkOneWay256KiB(b *testing.B) { benchOneWay(b, 256<<10) }

// BenchmarkRoundTrip64B sends 64 bytes and waits for them to come back.
func BenchmarkRoundTrip64B(b *testing.B) {
	a, c, err := transport.Pair()
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	defer c.Close()
	ctx := context.Background()
	go func() {
		for {
			m, err := c.Recv(ctx)
			if err != nil || c.Send(ctx, m) != nil {
				return
			}
		}
	}()
	msg := transport.Msg{Data: bytes.Repeat([]byte("x"), 64)}
	for range b.N {
		if err := a.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
