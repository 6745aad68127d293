package mp_test

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// itemID is an item's id, whose decoding calls onDecode in processes that
// set it: the last thing a Get does before the item is in its caller's
// hands.
type itemID int

// onDecode, if set in a process, is called with the id of each itemID it
// decodes.
var onDecode func(id int)

// UnmarshalCBOR decodes the id and calls onDecode.
func (t *itemID) UnmarshalCBOR(data []byte) error {
	if err := cbor.Unmarshal(data, (*int)(t)); err != nil {
		return err
	}
	if onDecode != nil {
		onDecode(int(*t))
	}
	return nil
}

// deathItem is an item of the queues a getter dies on: its id, bytes that
// make it large, and a handle.
type deathItem struct {
	ID   itemID
	Pad  []byte   `cbor:",omitempty"`
	File *mp.File `cbor:",omitempty"`
}

// deathItemOrder orders the items of a PriorityQueue by id.
var deathItemOrder = mp.RegisterOrder("test.deathItemOrder", func(a, b deathItem) bool { return a.ID < b.ID })

// getter is any of mp's queues of deathItems.
type getter interface {
	Get(ctx context.Context) (deathItem, error)
	Put(ctx context.Context, v deathItem) error
}

// dieDecoding gets from q and is killed while it decodes the item, inside
// Get.
func dieDecoding[Q getter](ctx context.Context, q Q) (int, error) {
	onDecode = func(int) {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
	v, err := q.Get(ctx)
	return int(v.ID), err
}

var (
	dieDecodingQueue    = mp.Register("test.dieDecodingQueue", dieDecoding[*mp.Queue[deathItem]])
	dieDecodingJoinable = mp.Register("test.dieDecodingJoinable", dieDecoding[*mp.JoinableQueue[deathItem]])
	dieDecodingSimple   = mp.Register("test.dieDecodingSimple", dieDecoding[*mp.SimpleQueue[deathItem]])
	dieDecodingLifo     = mp.Register("test.dieDecodingLifo", dieDecoding[*mp.LifoQueue[deathItem]])
	dieDecodingPriority = mp.Register("test.dieDecodingPriority", dieDecoding[*mp.PriorityQueue[deathItem]])
)

// A consumer killed inside Get, as it decodes the item, leaves the item in
// its place for the next Get, for every kind of queue and every path an
// item takes through one.
func TestGetterDiesDecoding(t *testing.T) {
	small := func(id int) deathItem { return deathItem{ID: itemID(id)} }
	bulk := func(id int) deathItem { return deathItem{ID: itemID(id), Pad: make([]byte, 200<<10)} }
	large := func(id int) deathItem { return deathItem{ID: itemID(id), Pad: make([]byte, 3<<20)} }
	shapes := []struct {
		name string
		make func(int) deathItem
		fifo bool
	}{{"small", small, false}, {"bulk", bulk, false}, {"large", large, true}, {"handle", nil, true}}
	kinds := []struct {
		name string
		lifo bool
		new  func(t *testing.T) (getter, func(ctx context.Context, q getter) *mp.Process)
	}{
		{"Queue", false, newDeathQueue(mp.NewQueue[deathItem], dieDecodingQueue)},
		{"JoinableQueue", false, newDeathQueue(mp.NewJoinableQueue[deathItem], dieDecodingJoinable)},
		{"SimpleQueue", false, newDeathQueue(func(int) (*mp.SimpleQueue[deathItem], error) { return mp.NewSimpleQueue[deathItem]() }, dieDecodingSimple)},
		{"LifoQueue", true, newDeathQueue(mp.NewLifoQueue[deathItem], dieDecodingLifo)},
		{"PriorityQueue", false, newDeathQueue(func(n int) (*mp.PriorityQueue[deathItem], error) {
			return mp.NewPriorityQueueFunc(n, deathItemOrder)
		}, dieDecodingPriority)},
	}
	for _, k := range kinds {
		for _, shape := range shapes {
			fifo := k.name == "Queue" || k.name == "JoinableQueue" || k.name == "SimpleQueue"
			if shape.fifo && !fifo {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", k.name, shape.name), func(t *testing.T) {
				mptest.CheckLeaks(t)
				ctx := timeout(t)
				q, child := k.new(t)
				mk := shape.make
				var r *os.File
				if mk == nil {
					var w *os.File
					var err error
					if r, w, err = os.Pipe(); err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					defer w.Close()
					mk = func(id int) deathItem { return deathItem{ID: itemID(id), File: &mp.File{File: w}} }
				}
				// The child gets id 1: first in, last in for a LifoQueue,
				// first in order.
				order := []deathItem{mk(1), small(2)}
				if k.lifo {
					order[0], order[1] = order[1], order[0]
				}
				for _, v := range order {
					if err := q.Put(ctx, v); err != nil {
						t.Fatal(err)
					}
				}
				p := child(ctx, q)
				p.Wait(ctx)
				if code, _ := p.ExitCode(); code != -int(syscall.SIGKILL) {
					t.Fatalf("the getter's exit code = %d, want killed", code)
				}
				for _, want := range []int{1, 2} {
					v, err := q.Get(ctx)
					if err != nil || int(v.ID) != want {
						t.Fatalf("Get() after the getter died = %d, %v; want %d", v.ID, err, want)
					}
					if want == 1 && r != nil {
						checkPipe(t, v.File, r)
					}
					if j, ok := q.(*mp.JoinableQueue[deathItem]); ok {
						j.TaskDone()
					}
				}
				if j, ok := q.(*mp.JoinableQueue[deathItem]); ok {
					if err := j.Join(ctx); err != nil {
						t.Errorf("Join() = %v, want nil: no item was lost", err)
					}
				}
			})
		}
	}
}

// newDeathQueue returns a function that makes a queue with mk, and a
// function that starts fn's child on it.
func newDeathQueue[Q interface {
	getter
	Close() error
}](mk func(int) (Q, error), fn mp.Func[Q, int]) func(t *testing.T) (getter, func(context.Context, getter) *mp.Process) {
	return func(t *testing.T) (getter, func(context.Context, getter) *mp.Process) {
		q, err := mk(0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		return q, func(_ context.Context, q getter) *mp.Process { return start(t, mp.Command(fn, q.(Q))) }
	}
}

// checkPipe checks that f, which an item carried, is the write end of
// the pipe whose read end is r.
func checkPipe(t *testing.T, f *mp.File, r *os.File) {
	t.Helper()
	if f == nil || f.File == nil {
		t.Fatal("the item's file did not arrive")
	}
	defer f.Close()
	if _, err := f.Write([]byte("!")); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if n, _ := r.Read(b[:]); n != 1 || b[0] != '!' {
		t.Error("the item's file does not reach its pipe")
	}
}
