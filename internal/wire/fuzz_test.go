package wire_test

import (
	"bytes"
	"testing"

	"github.com/mpgo/mp/internal/wire"
)

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := wire.NewFrameReader(bytes.NewReader(data), 1<<16)
		for {
			p, err := fr.ReadFrame()
			if err != nil {
				return
			}
			if len(p) > 1<<16 {
				t.Fatalf("frame of %d bytes over the cap", len(p))
			}
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	for _, v := range []any{1, "s", []any{1, "x", nil}, map[string]int{"a": 1}, envelope{Label: "l", Count: 2}} {
		data, _, err := wire.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{0xda, 0x00, 0x6d, 0x70, 0x7f, 0x82, 0x81, 0x00, 0x40}) // a handle tag without fds
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		wire.Unmarshal(data, nil, &v)
		var e envelope
		wire.Unmarshal(data, nil, &e)
	})
}
