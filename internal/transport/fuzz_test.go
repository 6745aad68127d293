package transport

import "testing"

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
	})
}
