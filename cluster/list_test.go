package cluster_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// listAppend appends ID*1000+i for i below N to the list Name.
var listAppend = mp.Register("cluster.test.listAppend", func(ctx context.Context, j dictJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	l, err := cluster.NewList[int](ctx, c, j.Name)
	if err != nil {
		return 0, err
	}
	for i := range j.N {
		if err := l.Append(ctx, j.ID*1000+i); err != nil {
			return 0, err
		}
	}
	return j.N, nil
})

func TestListAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	l, err := cluster.NewList[int](ctx, c, "log")
	if err != nil {
		t.Fatal(err)
	}
	const procs, each = 3, 40
	var ps []*mp.Process
	for i := range procs {
		ps = append(ps, startChild(t, mp.Command(listAppend, dictJob{URL: c.URL(), Name: "log", ID: i, N: each})))
	}
	for _, p := range ps {
		childResult[int](t, ctx, p)
	}
	all, err := l.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != procs*each {
		t.Fatalf("%d elements, want %d: appends were lost", len(all), procs*each)
	}
	// Each process's elements are in its order.
	for i := range procs {
		var mine []int
		for _, v := range all {
			if v/1000 == i {
				mine = append(mine, v)
			}
		}
		if len(mine) != each || !slices.IsSorted(mine) {
			t.Errorf("process %d's elements: %v", i, mine)
		}
	}
}

func TestListMethods(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	l, err := cluster.NewList[string](ctx, c, "l")
	if err != nil {
		t.Fatal(err)
	}
	check := func(want ...string) {
		t.Helper()
		got, err := l.All(ctx)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("All() = %q, %v; want %q", got, err, want)
		}
	}
	check()
	if err := l.Extend(ctx, []string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	// Python: l.insert(-1, "x"); l.insert(100, "z"); l.insert(-100, "s")
	for _, in := range []struct {
		i int
		v string
	}{{-1, "x"}, {100, "z"}, {-100, "s"}} {
		if err := l.Insert(ctx, in.i, in.v); err != nil {
			t.Fatal(err)
		}
	}
	check("s", "a", "b", "x", "c", "z")
	if v, err := l.Get(ctx, -2); err != nil || v != "c" {
		t.Fatalf("Get(-2) = %q, %v", v, err)
	}
	if _, err := l.Get(ctx, 6); !errors.Is(err, cluster.ErrIndex) {
		t.Fatalf("Get(6) = %v, want ErrIndex", err)
	}
	if err := l.Set(ctx, 0, "S"); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(ctx, -7, "no"); !errors.Is(err, cluster.ErrIndex) {
		t.Fatalf("Set(-7) = %v, want ErrIndex", err)
	}
	if v, err := l.Pop(ctx, -1); err != nil || v != "z" {
		t.Fatalf("Pop(-1) = %q, %v", v, err)
	}
	if v, err := l.Pop(ctx, 1); err != nil || v != "a" {
		t.Fatalf("Pop(1) = %q, %v", v, err)
	}
	check("S", "b", "x", "c")
	if s, err := l.Slice(ctx, -3, 100); err != nil || !slices.Equal(s, []string{"b", "x", "c"}) {
		t.Fatalf("Slice(-3, 100) = %q, %v", s, err)
	}
	if s, err := l.Slice(ctx, 3, 1); err != nil || len(s) != 0 {
		t.Fatalf("Slice(3, 1) = %q, %v", s, err)
	}
	if n, err := l.Len(ctx); err != nil || n != 4 {
		t.Fatalf("Len() = %d, %v", n, err)
	}
	if err := l.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Pop(ctx, -1); !errors.Is(err, cluster.ErrIndex) {
		t.Fatalf("Pop on empty = %v, want ErrIndex", err)
	}
	check()
}
