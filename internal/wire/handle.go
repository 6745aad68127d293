package wire

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// handleKinds holds the registered handle types, by package path and name
// without type arguments, so that one instantiation of a generic handle
// type registers them all.
var handleKinds sync.Map // string → struct{}

// RegisterHandle records that each type, a pointer to a named type, is a
// handle: it stands for open file descriptors and travels between
// processes, encoding itself with MarshalHandle in MarshalCBOR and decoding
// with UnmarshalHandle in UnmarshalCBOR. For a generic type, any
// instantiation registers every one. The registry, rather than a marker
// method, keeps the mark out of the handle types' exported API; the codec
// finds MarshalCBOR and UnmarshalCBOR only if they are exported. Register
// handles in an init function, before any value is encoded: a type seen by
// the codec before is not a handle to it.
func RegisterHandle(types ...reflect.Type) {
	for _, t := range types {
		if t.Kind() != reflect.Pointer || t.Elem().Name() == "" || !t.Implements(marshalerType) || !t.Implements(unmarshalerType) {
			panic(fmt.Sprintf("mp: RegisterHandle(%v): want a pointer to a named type with MarshalCBOR and UnmarshalCBOR", t))
		}
		handleKinds.Store(handleKind(t.Elem()), struct{}{})
	}
}

// isHandle reports whether t, or *t, is a registered handle type.
func isHandle(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return false
	}
	_, ok := handleKinds.Load(handleKind(t))
	return ok
}

// handleKind is the key of named type t in handleKinds.
func handleKind(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	return t.PkgPath() + "." + name
}

// TagBase is the first CBOR tag number of mp's handles; each kind of handle
// adds its own small number.
const TagBase = 0x6d7000

// handleBody is the content of a handle's tag.
type handleBody struct {
	_     struct{} `cbor:",toarray"`
	Slots []int
	Meta  cbor.RawMessage
}

// MarshalHandle encodes a handle of kind tag with its descriptors and its
// metadata (any encodable value, nil for none). It must be called from the
// handle's MarshalCBOR while Marshal runs; the descriptors are duplicated,
// so the handle may be closed as soon as Marshal returns.
func MarshalHandle(tag uint64, fds []int, meta any) ([]byte, error) {
	s := activeEncode()
	if s == nil {
		return nil, fmt.Errorf("mp: a handle (tag %#x) can only be encoded by mp, in a message between processes", tag)
	}
	slots := make([]int, len(fds))
	for i, fd := range fds {
		slot, err := s.attach(fd)
		if err != nil {
			return nil, err
		}
		slots[i] = slot
	}
	m, err := encMode.Marshal(meta)
	if err != nil {
		return nil, err
	}
	return encMode.Marshal(cbor.Tag{Number: tag, Content: handleBody{Slots: slots, Meta: m}})
}

// UnmarshalHandle decodes a handle of kind tag written by MarshalHandle: it
// decodes the metadata into meta (unless nil) and returns the handle's
// descriptors, which the caller now owns. It must be called from the handle's
// UnmarshalCBOR while Unmarshal runs.
func UnmarshalHandle(data []byte, tag uint64, meta any) ([]int, error) {
	var raw cbor.RawTag
	if err := decMode.Unmarshal(data, &raw); err != nil {
		return nil, wrapDecode(err)
	}
	if raw.Number != tag {
		return nil, errs.ProtocolError(fmt.Sprintf("handle tag %#x, want %#x", raw.Number, tag))
	}
	var body handleBody
	if err := decMode.Unmarshal(raw.Content, &body); err != nil {
		return nil, wrapDecode(err)
	}
	if meta != nil {
		if err := decMode.Unmarshal(body.Meta, meta); err != nil {
			return nil, wrapDecode(err)
		}
	}
	s := activeDecode()
	if s == nil {
		return nil, errs.ProtocolError("a handle arrived without its descriptors")
	}
	return s.take(body.Slots)
}

// session is the state of one Marshal or Unmarshal that involves handles.
// Only one runs at a time in a process (sessionMu is held throughout); values
// that cannot hold handles never take the lock.
type session struct {
	encode  bool
	fds     []int
	claimed []bool
}

var (
	// sessionMu is held for the whole of an encode or decode that may
	// involve handles; cur points to its session while it runs.
	sessionMu sync.Mutex
	cur       atomic.Pointer[session]
)

func beginEncode() *session {
	sessionMu.Lock()
	s := &session{encode: true}
	cur.Store(s)
	return s
}

func beginDecode(fds []int) *session {
	sessionMu.Lock()
	s := &session{fds: fds, claimed: make([]bool, len(fds))}
	cur.Store(s)
	return s
}

func activeEncode() *session {
	if s := cur.Load(); s != nil && s.encode {
		return s
	}
	return nil
}

func activeDecode() *session {
	if s := cur.Load(); s != nil && !s.encode {
		return s
	}
	return nil
}

// end finishes an encode session and returns the duplicated descriptors.
func (s *session) end() []int {
	cur.Store(nil)
	sessionMu.Unlock()
	return s.fds
}

// finish ends a decode session: it closes the descriptors no handle claimed
// and returns how many there were.
func (s *session) finish() int {
	cur.Store(nil)
	sessionMu.Unlock()
	n := 0
	for i, fd := range s.fds {
		if !s.claimed[i] {
			unix.Close(fd)
			n++
		}
	}
	return n
}

func (s *session) attach(fd int) (int, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("mp: duplicate descriptor of a handle: %w", err)
	}
	s.fds = append(s.fds, dup)
	return len(s.fds) - 1, nil
}

func (s *session) take(slots []int) ([]int, error) {
	out := make([]int, len(slots))
	for i, slot := range slots {
		if slot < 0 || slot >= len(s.fds) || s.claimed[slot] {
			return nil, errs.ProtocolError(fmt.Sprintf("handle names descriptor slot %d of %d", slot, len(s.fds)))
		}
		s.claimed[slot] = true
		out[i] = s.fds[slot]
	}
	return out, nil
}

// closeAll closes descriptors, ignoring errors.
func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
