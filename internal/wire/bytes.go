package wire

import (
	"encoding/binary"
	"math"
)

// Byte strings are what bulk data is made of, and the codec's general path
// costs them a copy too many each way: it encodes into a buffer of its own
// and copies the result out, and it decodes a byte string into new memory
// although the message's memory could serve. The forms here do each in
// one pass, for the two shapes bulk data takes: a []byte (an argument or
// result) and a [][]byte (a chunk of a Map over byte slices). Their bytes
// are those of the codec (nil as null, definite lengths, the shortest
// head); a test and a fuzz target compare the two.

// CBOR major types and simple values used here.
const (
	majorBytes = 2
	majorArray = 4
	cborNull   = 0xf6
)

// marshalBytes encodes v if it is a []byte or a [][]byte, reporting
// whether it was one.
func marshalBytes(v any) ([]byte, bool) {
	switch v := v.(type) {
	case []byte:
		if v == nil {
			return []byte{cborNull}, true
		}
		return append(appendHead(make([]byte, 0, headLen(len(v))+len(v)), majorBytes, len(v)), v...), true
	case [][]byte:
		if v == nil {
			return []byte{cborNull}, true
		}
		n := headLen(len(v))
		for _, b := range v {
			n += headLen(len(b)) + len(b)
		}
		out := appendHead(make([]byte, 0, n), majorArray, len(v))
		for _, b := range v {
			if b == nil {
				out = append(out, cborNull)
				continue
			}
			out = append(appendHead(out, majorBytes, len(b)), b...)
		}
		return out, true
	}
	return nil, false
}

// headLen is the length of the head of an item whose argument is n.
func headLen(n int) int {
	switch {
	case n < 24:
		return 1
	case n <= math.MaxUint8:
		return 2
	case n <= math.MaxUint16:
		return 3
	case uint64(n) <= math.MaxUint32:
		return 5
	}
	return 9
}

// appendHead appends the shortest head of an item of major type major
// whose argument is n.
func appendHead(b []byte, major byte, n int) []byte {
	m := major << 5
	switch u := uint64(n); {
	case u < 24:
		return append(b, m|byte(u))
	case u <= math.MaxUint8:
		return append(b, m|24, byte(u))
	case u <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(u))
	case u <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(u))
	default:
		return binary.BigEndian.AppendUint64(append(b, m|27), u)
	}
}

// UnmarshalOwned is Unmarshal of data the caller gives away: data is not
// used, read or written by anyone else afterwards. Byte strings decoded
// into a []byte or a [][]byte then stay where they are in data rather than
// being copied, each with its capacity cut at its length (an append to one
// cannot reach the next). Any other type, or data of another shape, is
// decoded as Unmarshal does.
func UnmarshalOwned(data []byte, fds []int, v any) error {
	if len(fds) == 0 && unmarshalBytes(data, v) {
		return nil
	}
	return Unmarshal(data, fds, v)
}

// unmarshalBytes decodes data into v in place if v is a *[]byte or a
// *[][]byte and data is exactly one item of the shape it takes, reporting
// whether it did. It leaves v alone when it reports false.
func unmarshalBytes(data []byte, v any) bool {
	switch v := v.(type) {
	case *[]byte:
		b, rest, ok := nextBytes(data)
		if !ok || len(rest) > 0 || v == nil {
			return false
		}
		*v = b
		return true
	case *[][]byte:
		if v == nil {
			return false
		}
		if len(data) == 1 && data[0] == cborNull {
			*v = nil
			return true
		}
		n, rest, ok := head(data, majorArray)
		// Every item takes at least one byte: a count beyond what is
		// left is malformed, and the general path says how.
		if !ok || n > uint64(len(rest)) || n > maxElements {
			return false
		}
		out := make([][]byte, n)
		for i := range out {
			if out[i], rest, ok = nextBytes(rest); !ok {
				return false
			}
		}
		if len(rest) > 0 {
			return false
		}
		*v = out
		return true
	}
	return false
}

// nextBytes reads a byte string or null from the front of data.
func nextBytes(data []byte) (b, rest []byte, ok bool) {
	if len(data) > 0 && data[0] == cborNull {
		return nil, data[1:], true
	}
	n, rest, ok := head(data, majorBytes)
	if !ok || n > uint64(len(rest)) {
		return nil, nil, false
	}
	return rest[:n:n], rest[n:], true
}

// head reads the head of a definite-length item of major type major from
// the front of data: its argument and what follows it. It reports false
// for an argument not in its shortest form, which the general path
// decodes (the codec accepts it).
func head(data []byte, major byte) (n uint64, rest []byte, ok bool) {
	m, _, n, size, ok := parseHead(data)
	if !ok || m != major || headLen(int(min(n, math.MaxInt64))) != size {
		return 0, nil, false
	}
	return n, data[size:], true
}
