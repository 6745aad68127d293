package wire

import (
	"fmt"
	"reflect"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp/internal/errs"
)

// Decode limits. A message is bounded by the frame cap already; these bound
// the work a hostile message can cause inside it.
const (
	maxNesting  = 128
	maxElements = 1 << 26
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.EncOptions{
		Time:          cbor.TimeRFC3339Nano,
		TagsMd:        cbor.TagsAllowed,
		String:        cbor.StringToTextString,
		BigIntConvert: cbor.BigIntConvertShortest,
	}.EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		MaxNestedLevels:  maxNesting,
		MaxArrayElements: maxElements,
		MaxMapPairs:      maxElements,
		IndefLength:      cbor.IndefLengthForbidden,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		TagsMd:           cbor.TagsAllowed,
		IntDec:           cbor.IntDecConvertSignedOrBigInt,
		DefaultMapType:   reflect.TypeOf(map[any]any(nil)),
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal encodes v. The returned fds are duplicates of the descriptors of
// the handles inside v, in slot order; the caller sends them with the bytes
// and then closes them. A value that would lose data on the way (see
// Check; interfaces inside v are checked by their dynamic types) gives a
// *TypeError and nothing is encoded. It is safe for concurrent use.
func Marshal(v any) (data []byte, fds []int, err error) {
	if data, ok := marshalBytes(v); ok {
		return data, nil, nil
	}
	ti := info(reflect.TypeOf(v))
	if ti.err != nil {
		return nil, nil, ti.err
	}
	if ti.ifaces {
		if err := checkValue(reflect.ValueOf(v), 0); err != nil {
			return nil, nil, err
		}
	}
	if !ti.handles {
		data, err = encMode.Marshal(v)
		return data, nil, err
	}
	s := beginEncode()
	data, err = encMode.Marshal(v)
	fds = s.end()
	if err != nil {
		closeAll(fds)
		return nil, nil, err
	}
	return data, fds, nil
}

// Unmarshal decodes data into v, which must be a non-nil pointer. Handles in
// the data take their descriptors from fds; Unmarshal takes ownership of fds
// and closes every one that no handle claimed. A message whose handles do not
// all land in handle-typed fields (for example one decoded into an interface)
// is an error, so that no handle is dropped silently. So is a v whose type
// would not receive every field sent (see Check): then nothing is decoded.
//
// A message whose decoding would allocate more than a budget of 64 times
// its size plus 1 MiB, by an estimate made before anything is decoded, is
// refused with an error matching errs.ErrTooLarge: the codec's limits
// bound each array and map, and without a budget a message of a few KiB
// could decode into hundreds of MiB.
func Unmarshal(data []byte, fds []int, v any) error {
	t := reflect.TypeOf(v)
	if err := info(t).err; err != nil {
		closeAll(fds)
		return err
	}
	if t != nil && t.Kind() == reflect.Pointer {
		if err := checkBudget(data, t.Elem(), budget(len(data))); err != nil {
			closeAll(fds)
			return err
		}
	}
	if len(fds) == 0 {
		return wrapDecode(decMode.Unmarshal(data, v))
	}
	s := beginDecode(fds)
	err := decMode.Unmarshal(data, v)
	unclaimed := s.finish()
	if err != nil {
		return wrapDecode(err)
	}
	if unclaimed > 0 {
		return fmt.Errorf("%w: %d descriptor(s) of handles were not received into handle-typed fields", errs.ErrProtocol, unclaimed)
	}
	return nil
}

// wrapDecode makes a decode error match errs.ErrProtocol, keeping its text.
func wrapDecode(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", errs.ErrProtocol, err)
}

// Valid reports whether data is one well-formed CBOR value within the limits.
func Valid(data []byte) error { return wrapDecode(decMode.Wellformed(data)) }
