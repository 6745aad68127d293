package shmem

import (
	"errors"
	"testing"

	"github.com/mpgo/mp/internal/errs"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		size int
		ok   bool
	}{
		{"mutex", Header{Kind: 1, DataOff: 64, DataLen: 8}, 4096, true},
		{"array", Header{Kind: 8, ElemSize: 4, Count: 10, DataOff: 128, DataLen: 40}, 4096, true},
		{"data past the end", Header{Kind: 8, ElemSize: 4, Count: 1000, DataOff: 128, DataLen: 4000}, 4096, false},
		{"count and length disagree", Header{Kind: 8, ElemSize: 4, Count: 11, DataOff: 128, DataLen: 40}, 4096, false},
		{"data inside the header", Header{Kind: 1, DataOff: 8, DataLen: 8}, 4096, false},
		{"huge count", Header{Kind: 8, ElemSize: 8, Count: 1 << 62, DataOff: 128, DataLen: 0}, 4096, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, tt.size)
			tt.h.Encode(b)
			got, err := DecodeHeader(b, tt.h.Kind)
			if tt.ok && (err != nil || got != tt.h) {
				t.Fatalf("DecodeHeader = %+v, %v; want %+v", got, err, tt.h)
			}
			if !tt.ok && !errors.Is(err, errs.ErrBadHeader) {
				t.Fatalf("DecodeHeader = %v, want errs.ErrBadHeader", err)
			}
		})
	}
	b := make([]byte, 4096)
	Header{Kind: 1, DataOff: 64, DataLen: 8}.Encode(b)
	if _, err := DecodeHeader(b, 2); !errors.Is(err, errs.ErrBadHeader) {
		t.Fatalf("DecodeHeader of another kind = %v", err)
	}
	if _, err := DecodeHeader(b[:10], 1); !errors.Is(err, errs.ErrBadHeader) {
		t.Fatalf("DecodeHeader of a short region = %v", err)
	}
}

// FuzzDecodeHeader feeds DecodeHeader regions written by a hostile peer: it
// must never panic, and what it accepts must lie inside the region.
func FuzzDecodeHeader(f *testing.F) {
	seed := make([]byte, 256)
	Header{Kind: 8, ElemSize: 4, Count: 10, DataOff: 128, DataLen: 40}.Encode(seed)
	f.Add(seed, uint16(8))
	f.Add(seed[:64], uint16(8))
	f.Add([]byte{}, uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, kind uint16) {
		h, err := DecodeHeader(b, kind)
		if err != nil {
			return
		}
		end := h.DataOff + h.DataLen
		if end < h.DataOff || end > uint64(len(b)) || h.DataOff < HeaderSize {
			t.Fatalf("accepted data at %d+%d in %d bytes", h.DataOff, h.DataLen, len(b))
		}
		if h.ElemSize != 0 && h.Count*uint64(h.ElemSize) != h.DataLen {
			t.Fatalf("accepted %d x %d bytes in %d", h.Count, h.ElemSize, h.DataLen)
		}
	})
}

func TestRegionSealed(t *testing.T) {
	r, err := Create("test", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Bytes()) != PageSize {
		t.Fatalf("size %d, want one page", len(r.Bytes()))
	}
	// A received descriptor must be sealed: a plain memfd is refused.
	r2, err := FromFD(mustDup(t, r.FD()))
	if err != nil {
		t.Fatalf("FromFD of a sealed region: %v", err)
	}
	r2.Bytes()[0] = 42
	if r.Bytes()[0] != 42 {
		t.Fatal("two mappings of one region do not share memory")
	}
	r2.Close()
}
