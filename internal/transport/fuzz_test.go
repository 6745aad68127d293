//go:build linux && !mpportable

package transport

import (
	"bytes"
	"testing"
)

func FuzzParseDatagram(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'h', 'i'})
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 'x'})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseDatagram(data, false, nil, 1<<20)
		if err == nil && len(m.Data) != len(data)-headerLen {
			t.Fatalf("parsed %d bytes of a %d-byte datagram", len(m.Data), len(data))
		}
		// A datagram received into memory of its own gives the same
		// message, without a copy.
		own := bytes.Clone(data)
		m2, err2 := parseDatagram(own, true, nil, 1<<20)
		if (err == nil) != (err2 == nil) || err == nil && (m.Kind != m2.Kind || !bytes.Equal(m.Data, m2.Data)) {
			t.Fatalf("parsed into its own memory: %v, %v; copied: %v, %v", m2, err2, m, err)
		}
		if err2 == nil && len(m2.Data) > 0 && &m2.Data[0] != &own[headerLen] {
			t.Fatal("a datagram in memory of its own was copied")
		}
	})
}
