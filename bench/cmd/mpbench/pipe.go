package main

import (
	"bytes"
	"context"
	"time"

	"github.com/mpgo/mp"
)

func init() { addGroup("pipe", benchPipe) }

var (
	// echoBytes sends back every message until an empty one.
	echoBytes = mp.Register("bench.echoBytes", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
		defer c.Close()
		for {
			m, err := c.RecvBytes(ctx, 0)
			if err != nil || len(m) == 0 {
				return struct{}{}, err
			}
			if err := c.SendBytes(ctx, m); err != nil {
				return struct{}{}, err
			}
		}
	})
	// sinkBytes receives N messages, then answers "done"; with Into, it
	// receives them into one buffer of Size bytes.
	sinkBytes = mp.Register("bench.sinkBytes", func(ctx context.Context, s sinkArg) (struct{}, error) {
		defer s.Conn.Close()
		buf := make([]byte, s.Size)
		for range s.N {
			var err error
			if s.Into {
				_, err = s.Conn.RecvBytesInto(ctx, buf)
			} else {
				_, err = s.Conn.RecvBytes(ctx, 0)
			}
			if err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, s.Conn.SendBytes(ctx, []byte("done"))
	})
)

type sinkArg struct {
	Conn *mp.Conn
	N    int
	Size int
	Into bool
}

func benchPipe(ctx context.Context, b *bench) error {
	if err := pipeRoundTrip(ctx, b, b.n(20000)); err != nil {
		return err
	}
	for _, into := range []bool{false, true} {
		if err := pipeOneWay(ctx, b, b.n(1000), 1<<20, into); err != nil {
			return err
		}
		if err := pipeOneWay(ctx, b, b.n(10000), 64<<10, into); err != nil {
			return err
		}
	}
	return pipeOneWay(ctx, b, b.n(200000), 64, false)
}

// pipeRoundTrip measures a 64-byte message sent to a child and back: the
// median of n round trips.
func pipeRoundTrip(ctx context.Context, b *bench, n int) error {
	a, c, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer a.Close()
	p := mp.Command(echoBytes, c)
	if err := p.Start(); err != nil {
		return err
	}
	c.Close()
	msg := bytes.Repeat([]byte("x"), 64)
	trip := func() error {
		if err := a.SendBytes(ctx, msg); err != nil {
			return err
		}
		_, err := a.RecvBytes(ctx, 0)
		return err
	}
	d, err := warmMedian(n, trip)
	if err != nil {
		return err
	}
	a.SendBytes(ctx, nil)
	b.emit("pipe_roundtrip_64B", us(d), "us")
	return p.Wait(ctx)
}

// pipeOneWay measures n messages of size bytes sent to a child that
// acknowledges the last; with into, the child receives them into one
// buffer (RecvBytesInto, Python's recv_bytes_into).
func pipeOneWay(ctx context.Context, b *bench, n, size int, into bool) error {
	a, c, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer a.Close()
	p := mp.Command(sinkBytes, sinkArg{c, n, size, into})
	if err := p.Start(); err != nil {
		return err
	}
	c.Close()
	buf := bytes.Repeat([]byte("x"), size)
	t := time.Now()
	for range n {
		if err := a.SendBytes(ctx, buf); err != nil {
			return err
		}
	}
	if _, err := a.RecvBytes(ctx, 0); err != nil {
		return err
	}
	dt := time.Since(t).Seconds()
	if into {
		b.emit("pipe_oneway_into_"+itoa(size)+"B_bw", float64(n*size)/dt/1e6, "MB/s")
		return p.Wait(ctx)
	}
	b.emit("pipe_oneway_"+itoa(size)+"B", float64(n)/dt, "msg/s")
	b.emit("pipe_oneway_"+itoa(size)+"B_bw", float64(n*size)/dt/1e6, "MB/s")
	return p.Wait(ctx)
}
