package manager

import (
	"fmt"
	"math"

	"github.com/fxamacker/cbor/v2"
)

// addNumbers returns the encoding of a+delta, two encoded numbers; a nil a
// counts as zero. Two integers give an integer, anything with a float a
// float.
func addNumbers(a, delta cbor.RawMessage) (cbor.RawMessage, error) {
	x, err := number(a)
	if err != nil {
		return nil, err
	}
	d, err := number(delta)
	if err != nil {
		return nil, err
	}
	var sum any
	switch {
	case x.isFloat || d.isFloat:
		sum = x.float() + d.float()
	default:
		s := x.i + d.i
		if (d.i > 0 && s < x.i) || (d.i < 0 && s > x.i) {
			return nil, fmt.Errorf("%w: integer overflow", ErrNotNumber)
		}
		sum = s
	}
	return encode(sum)
}

// num is a decoded number.
type num struct {
	i       int64
	f       float64
	isFloat bool
}

func (n num) float() float64 {
	if n.isFloat {
		return n.f
	}
	return float64(n.i)
}

func number(raw cbor.RawMessage) (num, error) {
	if raw == nil {
		return num{}, nil
	}
	var v any
	if err := decode(raw, &v); err != nil {
		return num{}, err
	}
	switch v := v.(type) {
	case int64:
		return num{i: v}, nil
	case uint64:
		if v > math.MaxInt64 {
			return num{}, fmt.Errorf("%w: %d is out of range", ErrNotNumber, v)
		}
		return num{i: int64(v)}, nil
	case float64:
		return num{f: v, isFloat: true}, nil
	case float32:
		return num{f: float64(v), isFloat: true}, nil
	}
	return num{}, fmt.Errorf("%w: %T", ErrNotNumber, v)
}
