package cluster_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// dictJob tells a child which dict to write.
type dictJob struct {
	URL, Name string
	ID, N     int
}

// dictWrite sets N keys of its own, and adds N to the key "total" by
// CompareAndSwap.
var dictWrite = mp.Register("cluster.test.dictWrite", func(ctx context.Context, j dictJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	d, err := cluster.NewDict[string, int](ctx, c, j.Name)
	if err != nil {
		return 0, err
	}
	for i := range j.N {
		if err := d.Set(ctx, fmt.Sprintf("p%d-%d", j.ID, i), i); err != nil {
			return 0, err
		}
		for {
			old, _, err := d.Get(ctx, "total")
			if err != nil {
				return 0, err
			}
			ok, err := d.CompareAndSwap(ctx, "total", old, old+1)
			if err != nil {
				return 0, err
			}
			if ok {
				break
			}
		}
	}
	return j.N, nil
})

func TestDictAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	d, err := cluster.NewDict[string, int](ctx, c, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Set(ctx, "total", 0); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	changes, err := d.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	const procs, each = 3, 20
	var ps []*mp.Process
	for i := range procs {
		ps = append(ps, startChild(t, mp.Command(dictWrite, dictJob{URL: c.URL(), Name: "shared", ID: i, N: each})))
	}
	for _, p := range ps {
		childResult[int](t, ctx, p)
	}
	if total, ok, err := d.Get(ctx, "total"); err != nil || !ok || total != procs*each {
		t.Fatalf("Get(total) = %d, %v, %v; want %d", total, ok, err, procs*each)
	}
	if n, err := d.Len(ctx); err != nil || n != procs*each+1 {
		t.Fatalf("Len() = %d, %v; want %d", n, err, procs*each+1)
	}
	// The watch saw every write of every process: each own key once, and
	// total counted up to the end.
	seen := map[string]int{}
	for total := 0; total < procs*each; {
		ch := recv(t, ctx, changes)
		if ch.Err != nil || ch.Deleted {
			t.Fatalf("change %+v", ch)
		}
		seen[ch.Key]++
		if ch.Key == "total" {
			total = ch.Value
		}
	}
	for len(seen) < procs*each+1 {
		ch := recv(t, ctx, changes)
		seen[ch.Key]++
	}
	for i := range procs {
		for j := range each {
			if k := fmt.Sprintf("p%d-%d", i, j); seen[k] != 1 {
				t.Errorf("watch saw %s %d times, want once", k, seen[k])
			}
		}
	}
	if _, err := d.Delete(ctx, "p0-0"); err != nil {
		t.Fatal(err)
	}
	if ch := recv(t, ctx, changes); ch.Key != "p0-0" || !ch.Deleted {
		t.Fatalf("after Delete the watch gave %+v, want p0-0 deleted", ch)
	}
	stop()
	for range changes {
	}
}

func TestDictMethods(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	type key struct {
		A string
		B int
	}
	d, err := cluster.NewDict[key, []string](ctx, c, "methods")
	if err != nil {
		t.Fatal(err)
	}
	k1, k2, k3 := key{"a", 1}, key{"a", 2}, key{"b/ c.*>", 1}
	if err := d.Update(ctx, map[key][]string{k1: {"x"}, k2: {"y", "z"}}); err != nil {
		t.Fatal(err)
	}
	if v, err := d.SetDefault(ctx, k1, []string{"other"}); err != nil || !slices.Equal(v, []string{"x"}) {
		t.Fatalf("SetDefault(k1) = %v, %v; want [x]", v, err)
	}
	if v, err := d.SetDefault(ctx, k3, []string{"new"}); err != nil || !slices.Equal(v, []string{"new"}) {
		t.Fatalf("SetDefault(k3) = %v, %v; want [new]", v, err)
	}
	if ok, err := d.Has(ctx, k3); err != nil || !ok {
		t.Fatalf("Has(k3) = %v, %v", ok, err)
	}
	m, err := d.Copy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[key][]string{k1: {"x"}, k2: {"y", "z"}, k3: {"new"}}
	if !maps.EqualFunc(m, want, slices.Equal) {
		t.Fatalf("Copy() = %v, want %v", m, want)
	}
	keys, err := d.Keys(ctx)
	if err != nil || len(keys) != 3 {
		t.Fatalf("Keys() = %v, %v", keys, err)
	}
	if vs, err := d.Values(ctx); err != nil || len(vs) != 3 {
		t.Fatalf("Values() = %v, %v", vs, err)
	}
	if ok, err := d.CompareAndSwap(ctx, k1, []string{"wrong"}, nil); err != nil || ok {
		t.Fatalf("CompareAndSwap with a wrong old = %v, %v; want false", ok, err)
	}
	if ok, err := d.CompareAndSwap(ctx, k1, []string{"x"}, []string{"x2"}); err != nil || !ok {
		t.Fatalf("CompareAndSwap = %v, %v; want true", ok, err)
	}
	_, rev, ok, err := d.Entry(ctx, k1)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, err := d.SetIfRevision(ctx, k1, []string{"stale"}, rev-1); err != nil || ok {
		t.Fatalf("SetIfRevision with an old revision = %v, %v; want false", ok, err)
	}
	if _, ok, err := d.SetIfRevision(ctx, k1, []string{"x3"}, rev); err != nil || !ok {
		t.Fatalf("SetIfRevision = %v, %v; want true", ok, err)
	}
	if v, ok, err := d.Pop(ctx, k1); err != nil || !ok || !slices.Equal(v, []string{"x3"}) {
		t.Fatalf("Pop(k1) = %v, %v, %v; want [x3]", v, ok, err)
	}
	if _, ok, err := d.Pop(ctx, k1); err != nil || ok {
		t.Fatalf("second Pop(k1) = %v, %v; want false", ok, err)
	}
	if _, ok, err := d.SetIfRevision(ctx, k1, []string{"again"}, 0); err != nil || !ok {
		t.Fatalf("SetIfRevision(0) of a deleted key = %v, %v; want true", ok, err)
	}
	if ok, err := d.Delete(ctx, k2); err != nil || !ok {
		t.Fatalf("Delete(k2) = %v, %v; want true", ok, err)
	}
	if err := d.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len() after Clear = %d, %v", n, err)
	}
	if _, ok, err := d.Get(ctx, k3); err != nil || ok {
		t.Fatalf("Get(k3) after Clear = %v, %v", ok, err)
	}
	counts, err := cluster.NewDict[string, int](ctx, c, "counts")
	if err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := counts.Add(ctx, "x", 1); err != nil || n != want {
			t.Fatalf("Add() = %d, %v; want %d", n, err, want)
		}
	}
	if it, ok, err := counts.PopItem(ctx); err != nil || !ok || it.Key != "x" || it.Value != 3 {
		t.Fatalf("PopItem() = %+v, %v, %v; want x 3", it, ok, err)
	}
	if _, ok, err := counts.PopItem(ctx); err != nil || ok {
		t.Fatalf("PopItem() on empty = %v, %v; want false", ok, err)
	}
	if err := d.Remove(ctx); err != nil {
		t.Fatal(err)
	}
}

// recv receives from ch, failing the test if ctx ends first.
func recv[T any](t *testing.T, ctx context.Context, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatal("nothing received before the test's deadline")
		panic("unreachable")
	}
}
