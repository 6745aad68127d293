package manager_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// TestLookupWrongType: the server records the item type of a queue at the
// first typed Lookup and refuses a Lookup as another type, naming both;
// any matches every type. Nothing is taken from the queue.
func TestLookupWrongType(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	srv.Register("tasks", manager.NewShared(manager.Spec{Kind: manager.KindQueue}))
	srv.Register("table", manager.NewShared(manager.Spec{Kind: manager.KindDict}))
	c := dial(t, inProcess(t, srv, ""), key)
	ints, err := manager.Lookup[manager.Queue[int]](ctx, c, "tasks")
	if err != nil {
		t.Fatal(err)
	}
	defer ints.Close()
	must(t, ints.Put(ctx, 7))
	_, err = manager.Lookup[manager.Queue[string]](ctx, c, "tasks")
	if !errors.Is(err, manager.ErrWrongType) || !strings.Contains(err.Error(), "int") || !strings.Contains(err.Error(), "string") {
		t.Errorf("Lookup as Queue[string] of a queue of ints = %v, want ErrWrongType naming both", err)
	}
	anys, err := manager.Lookup[manager.Queue[any]](ctx, c, "tasks")
	if err != nil {
		t.Fatalf("Lookup as Queue[any] = %v", err)
	}
	defer anys.Close()
	if n, err := ints.Get(ctx); n != 7 || err != nil {
		t.Errorf("Get = %d, %v; want the item still there", n, err)
	}
	// A dict records its key and value types, a wildcard at a time.
	d, err := manager.Lookup[manager.Dict[string, any]](ctx, c, "table")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d2, err := manager.Lookup[manager.Dict[string, float64]](ctx, c, "table")
	if err != nil {
		t.Fatalf("Lookup as Dict[string, float64] after Dict[string, any] = %v", err)
	}
	defer d2.Close()
	if _, err := manager.Lookup[manager.Dict[string, int]](ctx, c, "table"); !errors.Is(err, manager.ErrWrongType) {
		t.Errorf("Lookup as Dict[string, int] of a Dict[string, float64] = %v, want ErrWrongType", err)
	}
	if _, err := manager.Lookup[manager.List[int]](ctx, c, "table"); !errors.Is(err, manager.ErrKind) {
		t.Errorf("Lookup as List of a dict = %v, want ErrKind", err)
	}
}

// TestReceiveWrongType: a proxy sent to another process is refused there
// as a proxy of another item type.
func TestReceiveWrongType(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	q, err := manager.NewQueue[int](ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	must(t, w.Send(ctx, q))
	var wrong *manager.Queue[string]
	if err := r.Recv(ctx, &wrong); !errors.Is(err, manager.ErrWrongType) {
		t.Errorf("Recv of a Queue[int] as a Queue[string] = %v, want ErrWrongType", err)
	}
	must(t, w.Send(ctx, q))
	var right *manager.Queue[int]
	must(t, r.Recv(ctx, &right))
	right.Close()
}

// TestGetWrongTypeKeepsItem: an item that does not decode as the
// consumer's type goes back to the front of the queue, and the error says
// what was wanted; a consumer of the right type then gets it.
func TestGetWrongTypeKeepsItem(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	srv.Register("mixed", manager.NewShared(manager.Spec{Kind: manager.KindJoinableQueue}))
	c := dial(t, inProcess(t, srv, ""), key)
	anys, err := manager.Lookup[manager.JoinableQueue[any]](ctx, c, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	defer anys.Close()
	must(t, anys.Put(ctx, "text"))
	must(t, anys.Put(ctx, 2))
	ints, err := manager.Lookup[manager.JoinableQueue[int]](ctx, c, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	defer ints.Close()
	for _, get := range []func() (int, error){
		func() (int, error) { return ints.Get(ctx) },
		func() (int, error) { return ints.TryGet(ctx) },
	} {
		if _, err := get(); !errors.Is(err, manager.ErrWrongType) || !strings.Contains(err.Error(), "int") {
			t.Errorf("Get of a string as an int = %v, want ErrWrongType naming int", err)
		}
	}
	if n, err := ints.Len(ctx); n != 2 || err != nil {
		t.Errorf("Len = %d, %v; want both items still there", n, err)
	}
	if v, err := anys.Get(ctx); v != "text" || err != nil {
		t.Errorf("Get = %v, %v; want the string back at the front", v, err)
	}
	if v, err := ints.Get(ctx); v != 2 || err != nil {
		t.Errorf("Get = %v, %v; want 2", v, err)
	}
	// Both items were taken once for good: two TaskDones finish the queue.
	must(t, ints.TaskDone(ctx))
	must(t, ints.TaskDone(ctx))
	must(t, ints.Wait(ctx))
}

// retyped sends proxy p through a pipe and receives it as a Q, as another
// process would.
func retyped[Q any](t *testing.T, p any) *Q {
	t.Helper()
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ctx := testCtx(t)
	must(t, w.Send(ctx, p))
	var q *Q
	must(t, r.Recv(ctx, &q))
	return q
}

// TestPopWrongTypeKeepsValue: List.Pop, Dict.Pop and Dict.PopItem put back
// what does not decode as the proxy's type, where it was.
func TestPopWrongTypeKeepsValue(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	anyList, err := manager.NewList(ctx, c, []any{1, "x", 3, "y"})
	if err != nil {
		t.Fatal(err)
	}
	defer anyList.Close()
	ints := retyped[manager.List[int]](t, anyList)
	defer ints.Close()
	for _, i := range []int{1, -1, -3} {
		if _, err := ints.Pop(ctx, i); !errors.Is(err, manager.ErrWrongType) {
			t.Errorf("Pop(%d) of a string as an int = %v, want ErrWrongType", i, err)
		}
		if all, _ := anyList.All(ctx); len(all) != 4 || all[1] != "x" || all[3] != "y" {
			t.Fatalf("after Pop(%d): %v, want the list as it was", i, all)
		}
	}
	if v, err := ints.Pop(ctx, -2); v != 3 || err != nil {
		t.Errorf("Pop(-2) = %v, %v; want 3", v, err)
	}

	anyDict, err := manager.NewDict[string, any](ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer anyDict.Close()
	must(t, anyDict.Set(ctx, "n", 1))
	must(t, anyDict.Set(ctx, "s", "text"))
	intDict := retyped[manager.Dict[string, int]](t, anyDict)
	defer intDict.Close()
	if _, _, err := intDict.Pop(ctx, "s"); !errors.Is(err, manager.ErrWrongType) {
		t.Errorf("Dict.Pop of a string as an int = %v, want ErrWrongType", err)
	}
	if _, _, err := intDict.PopItem(ctx); !errors.Is(err, manager.ErrWrongType) {
		t.Errorf("PopItem of a string as an int = %v, want ErrWrongType", err)
	}
	if v, ok, _ := anyDict.Get(ctx, "s"); v != "text" || !ok {
		t.Errorf("Get(s) = %v, %v; want the value put back", v, ok)
	}
	if v, ok, err := intDict.Pop(ctx, "n"); v != 1 || !ok || err != nil {
		t.Errorf("Pop(n) = %v, %v, %v; want 1", v, ok, err)
	}
}
