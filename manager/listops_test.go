package manager_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

// TestListPythonMethods runs Python's list methods on a list held by a
// server in another process, each checked against what Python gives.
func TestListPythonMethods(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	l, err := manager.NewList(ctx, c, []int{3, 1, 4, 1, 5, 9, 2, 6})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	expect := func(step string, want ...int) {
		t.Helper()
		if all, err := l.All(ctx); !slices.Equal(all, want) || err != nil {
			t.Fatalf("after %s: %v, %v; want %v", step, all, err, want)
		}
	}
	if n, err := l.Count(ctx, 1); n != 2 || err != nil {
		t.Errorf("Count(1) = %d, %v; want 2", n, err)
	}
	if ok, err := l.Contains(ctx, 9); !ok || err != nil {
		t.Errorf("Contains(9) = %v, %v", ok, err)
	}
	if ok, _ := l.Contains(ctx, 7); ok {
		t.Error("Contains(7) = true")
	}
	for _, tc := range []struct{ v, from, want int }{{1, 0, 1}, {1, 2, 3}, {1, -5, 3}, {6, 0, 7}} {
		if i, err := l.Index(ctx, tc.v, tc.from); i != tc.want || err != nil {
			t.Errorf("Index(%d, %d) = %d, %v; want %d", tc.v, tc.from, i, err, tc.want)
		}
	}
	if _, err := l.Index(ctx, 7, 0); !errors.Is(err, manager.ErrMissing) {
		t.Errorf("Index(7) = %v, want ErrMissing", err)
	}
	must(t, l.Remove(ctx, 1))
	expect("Remove(1)", 3, 4, 1, 5, 9, 2, 6)
	if err := l.Remove(ctx, 7); !errors.Is(err, manager.ErrMissing) {
		t.Errorf("Remove(7) = %v, want ErrMissing", err)
	}
	must(t, l.Reverse(ctx))
	expect("Reverse", 6, 2, 9, 5, 1, 4, 3)
	must(t, l.Sort(ctx, false))
	expect("Sort", 1, 2, 3, 4, 5, 6, 9)
	must(t, l.Sort(ctx, true))
	expect("Sort(reverse)", 9, 6, 5, 4, 3, 2, 1)
	must(t, l.Delete(ctx, -1))
	expect("Delete(-1)", 9, 6, 5, 4, 3, 2)
	if err := l.Delete(ctx, 10); !errors.Is(err, manager.ErrIndex) {
		t.Errorf("Delete(10) = %v, want ErrIndex", err)
	}
	must(t, l.DeleteSlice(ctx, 1, 3))
	expect("DeleteSlice(1, 3)", 9, 4, 3, 2)
	must(t, l.SetSlice(ctx, 1, 2, []int{7, 7, 7}))
	expect("SetSlice(1, 2)", 9, 7, 7, 7, 3, 2)
	must(t, l.SetSlice(ctx, 0, -1, nil))
	expect("SetSlice(0, -1, nil)", 2)
	must(t, l.Extend(ctx, []int{8}))
	must(t, l.Repeat(ctx, 3))
	expect("Repeat(3)", 2, 8, 2, 8, 2, 8)
	if v, err := l.Add(ctx, 1, 10); v != 18 || err != nil {
		t.Errorf("Add(1, 10) = %d, %v; want 18", v, err)
	}
	must(t, l.SortFunc(ctx, func(a, b int) int { return b%10 - a%10 })) // by last digit, descending, stably
	expect("SortFunc", 18, 8, 8, 2, 2, 2)
	must(t, l.Repeat(ctx, 0))
	expect("Repeat(0)")
}

// TestListSortMixed: Sort refuses what it cannot order, leaving the list
// as it was; SortFunc orders any type.
func TestListSortMixed(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	l, err := manager.NewList(ctx, c, []any{"b", 1, 2.5})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Sort(ctx, false); !errors.Is(err, manager.ErrUnordered) {
		t.Errorf("Sort of strings and numbers = %v, want ErrUnordered", err)
	}
	if n, _ := l.Index(ctx, "b", 0); n != 0 {
		t.Errorf("the list changed after a failed Sort: b at %d", n)
	}
	type point struct{ X, Y int }
	p, err := manager.NewList(ctx, c, []point{{3, 0}, {1, 5}, {2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Sort(ctx, false); !errors.Is(err, manager.ErrUnordered) {
		t.Errorf("Sort of structs = %v, want ErrUnordered", err)
	}
	must(t, p.SortFunc(ctx, func(a, b point) int { return a.X - b.X }))
	if all, _ := p.All(ctx); !slices.Equal(all, []point{{1, 5}, {2, 1}, {3, 0}}) {
		t.Errorf("SortFunc by X = %v", all)
	}
	n, err := manager.NewList(ctx, c, []float64{2.5, -1, 10})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	must(t, n.Sort(ctx, false))
	if all, _ := n.All(ctx); !slices.Equal(all, []float64{-1, 2.5, 10}) {
		t.Errorf("Sort of floats = %v", all)
	}
}

var sortShared = mp.Register("manager_test.sortShared", func(ctx context.Context, l *manager.List[string]) (struct{}, error) {
	defer l.Close()
	return struct{}{}, l.SortFunc(ctx, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
})

// TestSortFuncInChild: a child sorts a shared list by its own order.
func TestSortFuncInChild(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	l, err := manager.NewList(ctx, c, []string{"b", "C", "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := mp.Call(ctx, sortShared, l); err != nil {
		t.Fatal(err)
	}
	if all, _ := l.All(ctx); !slices.Equal(all, []string{"a", "b", "C"}) {
		t.Errorf("after the child's SortFunc: %v", all)
	}
}

// TestDictPopItem: PopItem takes the key inserted last, as Python's
// popitem does, until the dict is empty.
func TestDictPopItem(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := start(t, nil)
	d, err := manager.NewDict[string, int](ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i, k := range []string{"a", "b", "c"} {
		must(t, d.Set(ctx, k, i))
	}
	d.Delete(ctx, "c")
	must(t, d.Set(ctx, "a", 10)) // a keeps its place
	for _, want := range []manager.Item[string, int]{{Key: "b", Value: 1}, {Key: "a", Value: 10}} {
		it, ok, err := d.PopItem(ctx)
		if it != want || !ok || err != nil {
			t.Errorf("PopItem = %v, %v, %v; want %v", it, ok, err, want)
		}
	}
	if _, ok, err := d.PopItem(ctx); ok || err != nil {
		t.Errorf("PopItem on an empty dict = %v, %v; want false, nil", ok, err)
	}
	must(t, d.Set(ctx, "z", 1))
	if keys, _ := d.Keys(ctx); !slices.Equal(keys, []string{"z"}) {
		t.Errorf("Keys after PopItem and Set = %v", keys)
	}
}
