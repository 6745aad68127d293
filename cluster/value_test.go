package cluster_test

import (
	"context"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// valueAdd adds 1 to the value named Name, N times.
var valueAdd = mp.Register("cluster.test.valueAdd", func(ctx context.Context, j dictJob) (int64, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	v, err := cluster.NewValue[int64](ctx, c, j.Name, 0)
	if err != nil {
		return 0, err
	}
	var last int64
	for range j.N {
		if last, err = v.Add(ctx, 1); err != nil {
			return 0, err
		}
	}
	return last, nil
})

func TestValueAddAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	v, err := cluster.NewValue[int64](ctx, c, "count", 0)
	if err != nil {
		t.Fatal(err)
	}
	const procs, each = 3, 100
	var ps []*mp.Process
	for range procs {
		ps = append(ps, startChild(t, mp.Command(valueAdd, dictJob{URL: c.URL(), Name: "count", N: each})))
	}
	// This process adds too, at the same time.
	for range each {
		if _, err := v.Add(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range ps {
		childResult[int64](t, ctx, p)
	}
	if n, err := v.Load(ctx); err != nil || n != (procs+1)*each {
		t.Fatalf("Load() = %d, %v; want %d", n, err, (procs+1)*each)
	}
}

func TestValueMethods(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	v, err := cluster.NewValue(ctx, c, "greeting", "hello")
	if err != nil {
		t.Fatal(err)
	}
	again, err := cluster.NewValue(ctx, c, "greeting", "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := again.Load(ctx); err != nil || s != "hello" {
		t.Fatalf("Load() of a value opened again = %q, %v; want hello", s, err)
	}
	if old, err := v.Swap(ctx, "hi"); err != nil || old != "hello" {
		t.Fatalf("Swap() = %q, %v; want hello", old, err)
	}
	if ok, err := v.CompareAndSwap(ctx, "hello", "no"); err != nil || ok {
		t.Fatalf("CompareAndSwap with a wrong old = %v, %v", ok, err)
	}
	if ok, err := v.CompareAndSwap(ctx, "hi", "bye"); err != nil || !ok {
		t.Fatalf("CompareAndSwap = %v, %v", ok, err)
	}
	if err := v.Store(ctx, "end"); err != nil {
		t.Fatal(err)
	}
	if s, err := again.Load(ctx); err != nil || s != "end" {
		t.Fatalf("Load() = %q, %v; want end", s, err)
	}
	f, err := cluster.NewValue(ctx, c, "float", 1.5)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := f.Add(ctx, -0.25); err != nil || x != 1.25 {
		t.Fatalf("Add() = %v, %v; want 1.25", x, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Add on a string value did not panic")
		}
	}()
	v.Add(ctx, "x")
}
