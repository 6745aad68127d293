package manager_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

func TestList(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	l, err := manager.NewList(ctx, c, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	must(t, l.Append(ctx, 3))
	must(t, l.Extend(ctx, []int{4, 5}))
	must(t, l.Insert(ctx, 0, 0))
	must(t, l.Set(ctx, -1, 50))
	if v, _ := l.Get(ctx, -1); v != 50 {
		t.Errorf("Get(-1) = %d", v)
	}
	if _, err := l.Get(ctx, 99); !errors.Is(err, manager.ErrIndex) {
		t.Errorf("Get(99) = %v, want ErrIndex", err)
	}
	if s, _ := l.Slice(ctx, 1, -1); !slices.Equal(s, []int{1, 2, 3, 4}) {
		t.Errorf("Slice(1, -1) = %v", s)
	}
	if v, _ := l.Pop(ctx, -1); v != 50 {
		t.Errorf("Pop = %d", v)
	}
	if all, _ := l.All(ctx); !slices.Equal(all, []int{0, 1, 2, 3, 4}) {
		t.Errorf("All = %v", all)
	}
	if n, _ := l.Len(ctx); n != 5 {
		t.Errorf("Len = %d", n)
	}
}

func TestArrayValueNamespace(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	a, err := manager.NewArray(ctx, c, make([]float64, 3))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	must(t, a.Set(ctx, 1, 2.5))
	if v, _ := a.Add(ctx, 1, 1); v != 3.5 {
		t.Errorf("Array.Add = %v", v)
	}
	if all, _ := a.All(ctx); !slices.Equal(all, []float64{0, 3.5, 0}) {
		t.Errorf("All = %v", all)
	}
	if _, err := a.Get(ctx, 3); !errors.Is(err, manager.ErrIndex) {
		t.Errorf("Get(3) = %v", err)
	}
	v, err := manager.NewValue(ctx, c, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if ok, _ := v.CompareAndSwap(ctx, "x", "y"); !ok {
		t.Error("CompareAndSwap failed")
	}
	if s, _ := v.Load(ctx); s != "y" {
		t.Errorf("Load = %q", s)
	}
	ns, err := manager.NewNamespace(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	must(t, ns.Set(ctx, "x", 10))
	must(t, ns.Set(ctx, "y", "hello"))
	var x int
	var y string
	must(t, ns.Get(ctx, "x", &x))
	must(t, ns.Get(ctx, "y", &y))
	if x != 10 || y != "hello" {
		t.Errorf("fields = %d, %q", x, y)
	}
	if err := ns.Get(ctx, "z", &x); !errors.Is(err, manager.ErrNotFound) {
		t.Errorf("missing field = %v, want ErrNotFound", err)
	}
	names, _ := ns.Names(ctx)
	slices.Sort(names)
	if !slices.Equal(names, []string{"x", "y"}) {
		t.Errorf("Names = %v", names)
	}
}

// TestDictOfLists: a dict holds proxies to lists, and keeps them alive
// after the proxies that made them are closed (Python ≥ 3.6).
func TestDictOfLists(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key, Limits: manager.Limits{ReleaseDelay: -1}})
	c := dial(t, inProcess(t, srv, ""), key)
	d, err := manager.NewDict[string, *manager.List[int]](ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"a", "b"} {
		l, err := manager.NewList(ctx, c, []int{len(name)})
		if err != nil {
			t.Fatal(err)
		}
		must(t, d.Set(ctx, name, l))
		l.Close() // the dict holds it now
	}
	if _, err := c.Ping(ctx); err != nil { // the server has had the Closes
		t.Fatal(err)
	}
	manager.FreeDue(srv) // it would free an unheld object now
	l, ok, err := d.Get(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	defer l.Close()
	must(t, l.Append(ctx, 7))
	l2, _, _ := d.Get(ctx, "a")
	defer l2.Close()
	if all, err := l2.All(ctx); !slices.Equal(all, []int{1, 7}) || err != nil {
		t.Errorf("the list in the dict = %v, %v", all, err)
	}
	// Deleting the entry drops the dict's reference; the proxies taken out
	// still hold theirs.
	d.Delete(ctx, "a")
	manager.FreeDue(srv)
	if _, err := l2.Len(ctx); err != nil {
		t.Errorf("list freed while a proxy refers to it: %v", err)
	}
}

// TestObjectFreedWhenUnreferenced: an object nobody refers to is kept for
// the release delay, so that a proxy on its way finds it, and freed after
// it: a proxy that arrives later finds ErrNotFound.
func TestObjectFreedWhenUnreferenced(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	key := []byte("k")
	const delay = time.Minute
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key, Limits: manager.Limits{ReleaseDelay: delay}})
	clock := manager.NewClock()
	manager.UseClock(srv, clock)
	c1 := dial(t, inProcess(t, srv, ""), key)
	holder, err := manager.NewList[*manager.Dict[int, int]](ctx, c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	d, _ := manager.NewDict[int, int](ctx, c1, nil)
	must(t, holder.Append(ctx, d))
	must(t, holder.Clear(ctx)) // the list no longer holds it
	must(t, holder.Append(ctx, d))
	d.Close()
	got, _ := holder.Pop(ctx, 0) // the list lets go; the object is kept for the delay
	defer got.Close()
	clock.Advance(delay - time.Second)
	manager.FreeDue(srv)
	if err := got.Set(ctx, 1, 1); err != nil {
		t.Fatalf("proxy taken out of a container within the release delay: %v", err)
	}
	got.Close()
	if _, err := c1.Ping(ctx); err != nil { // the server has had the Close
		t.Fatal(err)
	}
	clock.Advance(delay + time.Second)
	manager.FreeDue(srv) // past the delay since got let go
	must(t, holder.Append(ctx, d))
	late, _ := holder.Get(ctx, 0)
	defer late.Close()
	if err := late.Set(ctx, 1, 1); !errors.Is(err, manager.ErrNotFound) {
		t.Errorf("proxy to a freed object = %v, want ErrNotFound", err)
	}
}

// checkCounter looks up the counter named name and checks that it adds up
// (2 then 3 make 5); it returns the proxy.
func checkCounter(t *testing.T, ctx context.Context, c *manager.Client, name string) *manager.Object {
	t.Helper()
	o, err := manager.Lookup[manager.Object](ctx, c, name)
	if err != nil {
		t.Fatal(err)
	}
	manager.Invoke[int](ctx, o, "Add", 2)
	if n, err := manager.Invoke[int](ctx, o, "Add", 3); n != 5 || err != nil {
		t.Errorf("%s: Add = %d, %v; want 5", name, n, err)
	}
	return o
}

// counter is a custom shared object.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) Add(k int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += k
	return c.n
}

func (c *counter) Fail(ctx context.Context, msg string) error { return fmt.Errorf("fails: %s", msg) }

func (c *counter) Hidden() int { return 42 }

func (c *counter) Pair() (int, string, error) { return 1, "one", nil }

// errNoCredit is a program's own error, registered so that it crosses
// process boundaries as itself: through a manager's replies as through a
// child's results.
var errNoCredit = errors.New("counter: no credit")

func init() { mp.RegisterError("manager_test.errNoCredit", errNoCredit) }

func (c *counter) Spend(n int) error { return fmt.Errorf("spend %d: %w", n, errNoCredit) }

func (c *counter) End() error { return io.EOF }

func (c *counter) Drain() error { return fmt.Errorf("drain: %w", io.EOF) }

// TestRegister exposes a custom object and a factory (BaseManager.register).
func TestRegister(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	srv.Register("counter", &counter{}, "Add", "Fail", "Pair", "Spend", "End")
	srv.RegisterFactory("new_counter", func() any { return &counter{} })
	srv.RegisterFactory("new_queue", func() any { return manager.NewShared(manager.Spec{Kind: manager.KindQueue}) })
	addr := inProcess(t, srv, "")
	c := dial(t, addr, key)
	o := checkCounter(t, ctx, c, "counter")
	defer o.Close()
	if err := o.Call(ctx, "Fail", nil, "boom"); err == nil || !errors.As(err, new(*mp.RemoteError)) {
		t.Errorf("Fail = %v, want a remote error", err)
	}
	if err := o.Call(ctx, "Spend", nil, 3); !errors.Is(err, errNoCredit) {
		t.Errorf("Spend = %v, want an error matching the registered errNoCredit", err)
	}
	if err := o.Call(ctx, "End", nil); !errors.Is(err, io.EOF) {
		t.Errorf("End = %v, want an error matching io.EOF", err)
	}
	if err := o.Call(ctx, "Hidden", nil); !errors.Is(err, manager.ErrKind) {
		t.Errorf("unexposed method = %v, want ErrKind", err)
	}
	if err := o.Call(ctx, "Add", nil, "not a number"); err == nil {
		t.Error("Add with a string succeeded")
	}
	var pair []any
	if err := o.Call(ctx, "Pair", &pair); err != nil || len(pair) != 2 {
		t.Errorf("Pair = %v, %v", pair, err)
	}
	// A factory makes a new object per Lookup.
	a, _ := manager.Lookup[manager.Object](ctx, c, "new_counter")
	b, _ := manager.Lookup[manager.Object](ctx, c, "new_counter")
	defer a.Close()
	defer b.Close()
	manager.Invoke[int](ctx, a, "Add", 10)
	if n, _ := manager.Invoke[int](ctx, b, "Add", 1); n != 1 {
		t.Errorf("a second factory object shares state: %d", n)
	}
	q, err := manager.Lookup[manager.Queue[string]](ctx, c, "new_queue")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	must(t, q.Put(ctx, "x"))
}
