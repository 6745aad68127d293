package cluster

import (
	"regexp"
	"strconv"
	"testing"
)

// validName is what a stream or bucket name, a subject token and a key
// may hold: escapeName must give nothing else.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// unescape is the inverse of escapeName.
func unescape(t *testing.T, s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			b = append(b, s[i])
			continue
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			t.Fatalf("bad escape in %q", s)
		}
		b = append(b, byte(n))
		i += 2
	}
	return string(b)
}

func FuzzEscapeName(f *testing.F) {
	for _, s := range []string{"jobs", "a b", "a_b", "a_5Fb", "x.y.*.>", "é", "\x00", "MP_POOL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" || len(name)*3 > maxNameLen {
			return
		}
		enc := escapeName("test", name)
		if !validName.MatchString(enc) {
			t.Fatalf("escapeName(%q) = %q: not a valid name", name, enc)
		}
		if back := unescape(t, enc); back != name {
			t.Fatalf("escapeName(%q) = %q, which reads back as %q", name, enc, back)
		}
	})
}

func FuzzDecodeKey(f *testing.F) {
	for _, k := range []any{"a", 1, -7, []byte{1, 2}, 1.5} {
		s, err := encodeKey(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		var k any
		if decodeKey(s, &k) != nil {
			return
		}
		var str string
		decodeKey(s, &str) // must not panic whatever the key
	})
}
