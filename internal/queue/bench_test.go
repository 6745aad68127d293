package queue

import (
	"bytes"
	"testing"

	"github.com/mpgo/mp/internal/wire"
)

func BenchmarkBlob1MiB(b *testing.B) {
	p := bytes.Repeat([]byte("x"), 1<<20)
	b.SetBytes(1 << 20)
	for b.Loop() {
		fd, err := writeBlob(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := readBlob(fd, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode1MiB(b *testing.B) {
	p := bytes.Repeat([]byte("x"), 1<<20)
	b.SetBytes(1 << 20)
	for b.Loop() {
		d, _, _ := wire.Marshal(p)
		var out []byte
		wire.Unmarshal(d, nil, &out)
	}
}

func benchStream(b *testing.B, size int, buffered bool) {
	c, err := New(FIFO, 0, DefaultCapacity, buffered)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := bytes.Repeat([]byte("x"), size)
	b.SetBytes(int64(size))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			c.Put(b.Context(), Item{Data: p, Raw: true}, true)
		}
	}()
	for range b.N {
		if _, err := c.take(b.Context(), true); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}

func BenchmarkStream1MiB(b *testing.B)      { benchStream(b, 1<<20, true) }
func BenchmarkStream1KiB(b *testing.B)      { benchStream(b, 1<<10, true) }
func BenchmarkStream8B(b *testing.B)        { benchStream(b, 8, true) }
func BenchmarkStream8BUnbuf(b *testing.B)   { benchStream(b, 8, false) }
func BenchmarkStream1MiBUnbuf(b *testing.B) { benchStream(b, 1<<20, false) }

// BenchmarkPutGet8B is one Put and one Get of an 8-byte item by one
// goroutine: the cost of the lock, the copies and the commits, without
// contention or waiting.
func BenchmarkPutGet8B(b *testing.B) {
	c, err := New(FIFO, 0, 0, false)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	it := Item{Data: make([]byte, 8), Raw: true}
	for b.Loop() {
		if err := c.Put(b.Context(), it, true); err != nil {
			b.Fatal(err)
		}
		if err := c.Get(b.Context(), true, func(Item) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
