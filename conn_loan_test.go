package mp_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

func TestPipeWithRingSize(t *testing.T) {
	mptest.CheckLeaks(t)
	x, y, err := mp.Pipe(true)
	if err != nil {
		t.Fatal(err)
	}
	rings := x.MaxLoan() < mp.DefaultMaxMessageSize // Linux's mechanisms
	x.Close()
	y.Close()
	if x, y, err := mp.PipeWith(mp.PipeOptions{RingSize: 3 << 20}); rings && err == nil {
		x.Close()
		y.Close()
		t.Fatal("a ring that is no power of two was accepted")
	} else if !rings && err != nil {
		t.Fatalf("RingSize is ignored on the portable mechanisms, but PipeWith = %v", err)
	} else if err == nil {
		x.Close()
		y.Close()
	}
	a, b, err := mp.PipeWith(mp.PipeOptions{Duplex: true, RingSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A message over the loan limit still travels, outside the ring.
	big := bytes.Repeat([]byte{9}, 100<<10)
	if err := a.SendBytes(ctx, big); err != nil {
		t.Fatal(err)
	}
	got, err := b.RecvBytes(ctx, 0)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("100 KiB through a 64 KiB ring: %d bytes, %v", len(got), err)
	}
	if n := a.MaxLoan(); n != 16<<10 && n != mp.DefaultMaxMessageSize {
		t.Fatalf("MaxLoan of a 64 KiB ring = %d", n)
	}
}

func TestLoanAndBorrowBytes(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.LendBytes(ctx, 10); !errors.Is(err, mp.ErrReadOnly) {
		t.Fatalf("LendBytes on the reading end = %v", err)
	}
	if _, err := b.BorrowBytes(ctx); !errors.Is(err, mp.ErrWriteOnly) {
		t.Fatalf("BorrowBytes on the writing end = %v", err)
	}
	if _, err := b.LendBytes(ctx, b.MaxLoan()+1); err == nil && b.MaxLoan() < mp.DefaultMaxMessageSize {
		t.Fatal("a loan over MaxLoan was made")
	}
	l, err := b.LendBytes(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	copy(l.Bytes(), "hello")
	if err := l.Send(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Send(ctx); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("second Send of a loan = %v", err)
	}
	cancelled, err := b.LendBytes(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	cancelled.Cancel()
	if err := b.SendBytes(ctx, []byte("world")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello", "world"} {
		m, err := a.BorrowBytes(ctx)
		if err != nil || string(m.Bytes()) != want {
			t.Fatalf("borrowed %q, %v; want %q", m.Bytes(), err, want)
		}
		m.Release()
		if m.Bytes() != nil {
			t.Fatal("a released message still shows its bytes")
		}
	}
	// A value sent with Send is borrowed as its encoding, as RecvBytes
	// gives it.
	b.Send(ctx, "a value")
	m, err := a.BorrowBytes(ctx)
	if err != nil || !bytes.Contains(m.Bytes(), []byte("a value")) {
		t.Fatalf("borrowed value: %q, %v", m.Bytes(), err)
	}
	m.Release()
}
