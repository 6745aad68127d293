package mp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// hashJob has an unexported field, which mp's codec (like encoding/json)
// does not encode: it would arrive empty.
type hashJob struct {
	ID   int
	path string
}

// hashJobField is what every error about hashJob names.
const hashJobField = "type mp_test.hashJob has unexported field path"

// sealed has an unexported field too, but encodes itself.
type sealed struct{ secret string }

func (s sealed) MarshalCBOR() ([]byte, error) { return cbor.Marshal(s.secret) }
func (s *sealed) UnmarshalCBOR(b []byte) error {
	return cbor.Unmarshal(b, &s.secret)
}

var (
	// typeOf receives any value and names its type.
	typeOf = mp.Register("test.values.typeOf", func(_ context.Context, v any) (string, error) {
		return fmt.Sprintf("%T", v), nil
	})
	// makeJob returns a hashJob inside an interface.
	makeJob = mp.Register("test.values.makeJob", func(_ context.Context, path string) (any, error) {
		return hashJob{ID: 1, path: path}, nil
	})
	// putJob puts a hashJob on a queue of any.
	putJob = mp.Register("test.values.putJob", func(ctx context.Context, q *mp.Queue[any]) (struct{}, error) {
		return struct{}{}, q.Put(ctx, hashJob{ID: 1, path: "p"})
	})
	// openSealed returns what a sealed value carried.
	openSealed = mp.Register("test.values.openSealed", func(_ context.Context, s sealed) (string, error) {
		return s.secret, nil
	})
	hashJobOrder = mp.RegisterOrder("test.values.hashJobOrder", func(a, b hashJob) bool { return a.ID < b.ID })
)

// panicMessage runs f and returns what it panicked with.
func panicMessage(f func()) (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	f()
	return "no panic"
}

// TestTypesWithUnexportedFieldsPanic checks the types known before any
// value is sent: a registered function's argument and result, and the
// items of every kind of queue.
func TestTypesWithUnexportedFieldsPanic(t *testing.T) {
	noop := func(context.Context, hashJob) (int, error) { return 0, nil }
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"Register argument", func() { mp.Register("test.values.badArg", noop) },
			`mp: Register "test.values.badArg": argument ` + hashJobField},
		{"Register result", func() {
			mp.Register("test.values.badResult", func(context.Context, int) ([]hashJob, error) { return nil, nil })
		}, `mp: Register "test.values.badResult": result type []mp_test.hashJob has unexported field [].path (of mp_test.hashJob)`},
		{"NewQueue", func() { mp.NewQueue[hashJob](0) }, "mp: NewQueue[mp_test.hashJob]: item " + hashJobField},
		{"NewJoinableQueue", func() { mp.NewJoinableQueue[*hashJob](0) }, "mp: NewJoinableQueue[*mp_test.hashJob]: item " + hashJobField},
		{"NewSimpleQueue", func() { mp.NewSimpleQueue[hashJob]() }, "mp: NewSimpleQueue[mp_test.hashJob]: item " + hashJobField},
		{"NewLifoQueue", func() { mp.NewLifoQueue[hashJob](0) }, "mp: NewLifoQueue[mp_test.hashJob]: item " + hashJobField},
		{"NewPriorityQueueFunc", func() { mp.NewPriorityQueueFunc(0, hashJobOrder) }, "mp: NewPriorityQueue[mp_test.hashJob]: item " + hashJobField},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mptest.CheckLeaks(t)
			got := panicMessage(c.f)
			if !strings.HasPrefix(got, c.want+", which would not cross processes") {
				t.Errorf("panic = %q\nwant it to start with %q", got, c.want)
			}
		})
	}
}

// TestUnexportedFieldsAcrossProcesses checks values whose type is only
// known inside an interface: an argument, a result and a queue item each
// fail with an error that names the type and the field, and none arrives
// empty.
func TestUnexportedFieldsAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, mp.ErrUnencodable) || !strings.Contains(err.Error(), hashJobField) {
			t.Errorf("%s: %v, want ErrUnencodable naming %q", what, err, hashJobField)
		}
	}

	got, err := mp.Call(ctx, typeOf, any(hashJob{ID: 1, path: "p"}))
	check("argument", err)
	if got != "" {
		t.Errorf("the child received a %s", got)
	}

	res, err := mp.Call(ctx, makeJob, "p")
	check("result", err)
	if res != nil {
		t.Errorf("result = %#v, want none", res)
	}

	q, err := mp.NewQueue[any](0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	_, err = mp.Call(ctx, putJob, q)
	check("item put by a child", err)
	check("item put here", q.TryPut([]any{hashJob{ID: 2}}))
	if n := q.Len(); n != 0 {
		t.Errorf("queue holds %d items, want 0", n)
	}
}

func TestRecvIntoUnexportedFieldsKeepsTheMessage(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := w.Send(ctx, map[string]any{"ID": 3, "path": "p"}); err != nil {
		t.Fatal(err)
	}
	var j hashJob
	if err := r.Recv(ctx, &j); !errors.Is(err, mp.ErrUnencodable) || !strings.Contains(err.Error(), hashJobField) {
		t.Errorf("Recv into %T = %v, want ErrUnencodable naming the field", j, err)
	}
	var m map[string]any
	if err := r.Recv(ctx, &m); err != nil || m["path"] != "p" {
		t.Errorf("Recv after the refused one = %v, %v; want the message", m, err)
	}
}

// TestSelfEncodedTypeTravels checks that a type with unexported fields and
// its own MarshalCBOR is accepted, and arrives whole.
func TestSelfEncodedTypeTravels(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	got, err := mp.Call(ctx, openSealed, sealed{"s3cret"})
	if err != nil || got != "s3cret" {
		t.Errorf("Call = %q, %v; want s3cret", got, err)
	}
	q, err := mp.NewQueue[sealed](0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Put(ctx, sealed{"q"}); err != nil {
		t.Fatal(err)
	}
	if v, err := q.Get(ctx); err != nil || v.secret != "q" {
		t.Errorf("Get = %+v, %v; want q", v, err)
	}
}
