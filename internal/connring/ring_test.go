package connring

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
)

// testDir makes a direction over private memory, as dirOf does over a
// pipe's: a header block, then a ring of size bytes.
func testDir(size int) dir {
	words := make([]uint64, (hdrSize+2*size)/8)
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
	return dirOf(mem, size, 0)
}

// commitPut puts a record and commits it, failing the test on an error.
func commitPut(t *testing.T, d *dir, kind byte, p []byte) bool {
	t.Helper()
	tail, ok, err := d.put(kind, p)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		d.tail.Store(tail)
	}
	return ok
}

func TestRingWrapsAndKeepsOrder(t *testing.T) {
	d := testDir(minRingSize)
	var want [][]byte
	n := 0
	for round := range 200 {
		// Records of odd sizes so that the wrap falls everywhere.
		p := bytes.Repeat([]byte{byte(round)}, (round*37)%300)
		for !commitPut(t, &d, 1, p) {
			kind, got, head, ok, err := d.next()
			if err != nil || !ok || kind != 1 {
				t.Fatalf("next = %d, %v, %v", kind, ok, err)
			}
			if !bytes.Equal(got, want[0]) {
				t.Fatalf("record %d: got %d bytes, want %d", n, len(got), len(want[0]))
			}
			want = want[1:]
			n++
			d.head.Store(head)
		}
		want = append(want, p)
	}
	for len(want) > 0 {
		_, got, head, ok, err := d.next()
		if err != nil || !ok || !bytes.Equal(got, want[0]) {
			t.Fatalf("draining: ok %v err %v", ok, err)
		}
		want = want[1:]
		d.head.Store(head)
	}
	if _, _, _, ok, err := d.next(); ok || err != nil {
		t.Fatalf("empty ring: ok %v err %v", ok, err)
	}
	if d.tail.Load() <= uint64(minRingSize) {
		t.Fatalf("the test never wrapped the ring (tail %d)", d.tail.Load())
	}
}

func TestRingRefusesWhatDoesNotFit(t *testing.T) {
	d := testDir(minRingSize)
	if d.fits(minRingSize/4 + 1) {
		t.Fatal("a record over a quarter of the ring fits")
	}
	big := make([]byte, minRingSize/4-recHdr)
	puts := 0
	for commitPut(t, &d, 2, big) {
		puts++
	}
	if puts != 4 {
		t.Fatalf("%d records of a quarter fit, want 4", puts)
	}
}

func TestRingCorruptionIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(d *dir)
	}{
		{"tail before head", func(d *dir) { d.head.Store(64) }},
		{"tail beyond the ring", func(d *dir) { d.tail.Store(d.head.Load() + d.size + 8) }},
		{"unaligned head", func(d *dir) { d.head.Store(3) }},
		{"record past the tail", func(d *dir) { d.data[0] = 200 }},
		{"record of an unknown own kind", func(d *dir) { d.data[4] = 0xf5 }},
		{"header with unknown fields", func(d *dir) { d.data[6] = 1 }},
		{"bad wrap", func(d *dir) { d.data[4] = kindWrap; d.data[0] = 8 }},
		{"ticket of the wrong size", func(d *dir) { d.data[4] = kindTicket }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testDir(minRingSize)
			commitPut(t, &d, 1, []byte("sixteen bytes!!!"))
			tc.spoil(&d)
			if _, _, _, _, err := d.next(); !errors.Is(err, errs.ErrProtocol) {
				t.Fatalf("next = %v, want ErrProtocol", err)
			}
		})
	}
}
