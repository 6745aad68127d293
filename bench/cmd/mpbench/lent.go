package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/mpgo/mp"
)

func init() { addGroup("lent", benchLent) }

// lentRing is the ring of the pipes that lend: a quarter of it holds a
// 1 MiB message.
const lentRing = 8 << 20

var (
	// sinkBorrowed borrows N messages in place, checks each one's stamp
	// (its number, in its first and last 8 bytes) and, with Into, every
	// byte of it, and answers "done".
	sinkBorrowed = mp.Register("bench.sinkBorrowed", func(ctx context.Context, s sinkArg) (struct{}, error) {
		defer s.Conn.Close()
		full := filled(s.Size)
		for i := range s.N {
			m, err := s.Conn.BorrowBytes(ctx)
			if err != nil {
				return struct{}{}, err
			}
			err = checkStamp(m.Bytes(), i)
			if err == nil && s.Into && !bytes.Equal(m.Bytes()[8:len(full)-8], full[8:len(full)-8]) {
				err = fmt.Errorf("message %d: bad bytes", i)
			}
			m.Release()
			if err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, s.Conn.SendBytes(ctx, []byte("done"))
	})
	// echoBorrowed answers every message with one of the same size, lent
	// and stamped with the same number, until an empty one.
	echoBorrowed = mp.Register("bench.echoBorrowed", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
		defer c.Close()
		for {
			m, err := c.BorrowBytes(ctx)
			if err != nil {
				return struct{}{}, err
			}
			n := len(m.Bytes())
			if n == 0 {
				m.Release()
				return struct{}{}, nil
			}
			i := binary.LittleEndian.Uint64(m.Bytes())
			m.Release()
			if err := sendStamped(ctx, c, n, int(i), nil); err != nil {
				return struct{}{}, err
			}
		}
	})
)

// filled is the content of a filled message.
func filled(size int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), size/16) }

// sendStamped lends size bytes, fills them from full if it is not nil,
// stamps them with i, and sends them: the message crosses without being
// copied, and nothing else is written.
func sendStamped(ctx context.Context, c *mp.Conn, size, i int, full []byte) error {
	l, err := c.LendBytes(ctx, size)
	if err != nil {
		return err
	}
	b := l.Bytes()
	copy(b, full)
	binary.LittleEndian.PutUint64(b, uint64(i))
	binary.LittleEndian.PutUint64(b[len(b)-8:], uint64(i))
	return l.Send(ctx)
}

func checkStamp(b []byte, i int) error {
	if len(b) < 16 || binary.LittleEndian.Uint64(b) != uint64(i) || binary.LittleEndian.Uint64(b[len(b)-8:]) != uint64(i) {
		return fmt.Errorf("message %d: bad stamp", i)
	}
	return nil
}

// benchLent measures 1 MiB messages lent by the sender and borrowed by the
// receiver in the pipe's shared memory (LendBytes, BorrowBytes): one way,
// and a round trip. Each side writes and reads only a 16-byte stamp, so
// the figure is what the pipe costs a program that builds its messages in
// place, not what filling 1 MiB costs.
//
// pipe_lent_filled_1MiB_bw is the same with every byte written by the
// sender (a copy from its own memory) and read by the receiver (compared
// with what it should be): what a program pays to build and read its
// messages in place, where SendBytes and RecvBytes add a copy each and
// fresh memory for every message.
func benchLent(ctx context.Context, b *bench) error {
	const size = 1 << 20
	if err := lentOneWay(ctx, b, b.n(20000), size, false); err != nil {
		return err
	}
	if err := lentOneWay(ctx, b, b.n(2000), size, true); err != nil {
		return err
	}
	return lentRoundTrip(ctx, b, b.n(5000), size)
}

// lentPipe makes a pipe whose ring lends 1 MiB. On the portable
// mechanisms, which have no ring, a loan is memory of the Conn's own and
// its Send a copy: the figures then say what that costs.
func lentPipe() (*mp.Conn, *mp.Conn, error) {
	return mp.PipeWith(mp.PipeOptions{Duplex: true, RingSize: lentRing})
}

func lentOneWay(ctx context.Context, b *bench, n, size int, fill bool) error {
	a, c, err := lentPipe()
	if err != nil {
		return err
	}
	defer a.Close()
	p := mp.Command(sinkBorrowed, sinkArg{Conn: c, N: n, Size: size, Into: fill})
	if err := p.Start(); err != nil {
		return err
	}
	c.Close()
	var full []byte
	name := "pipe_lent_1MiB_bw"
	if fill {
		full, name = filled(size), "pipe_lent_filled_1MiB_bw"
	}
	t := time.Now()
	for i := range n {
		if err := sendStamped(ctx, a, size, i, full); err != nil {
			return err
		}
	}
	if _, err := a.RecvBytes(ctx, 0); err != nil {
		return err
	}
	dt := time.Since(t).Seconds()
	b.emit(name, float64(n*size)/dt/1e6, "MB/s")
	return p.Wait(ctx)
}

func lentRoundTrip(ctx context.Context, b *bench, n, size int) error {
	a, c, err := lentPipe()
	if err != nil {
		return err
	}
	defer a.Close()
	p := mp.Command(echoBorrowed, c)
	if err := p.Start(); err != nil {
		return err
	}
	c.Close()
	i := 0
	trip := func() error {
		i++
		if err := sendStamped(ctx, a, size, i, nil); err != nil {
			return err
		}
		m, err := a.BorrowBytes(ctx)
		if err != nil {
			return err
		}
		err = checkStamp(m.Bytes(), i)
		m.Release()
		return err
	}
	d, err := warmMedian(n, trip)
	if err != nil {
		return err
	}
	a.SendBytes(ctx, nil)
	b.emit("pipe_lent_roundtrip_1MiB", us(d), "us")
	return p.Wait(ctx)
}
