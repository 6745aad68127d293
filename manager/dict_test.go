package manager_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

func TestDict(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	d, err := manager.NewDict[string, int](ctx, c, map[string]int{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	must(t, d.Set(ctx, "b", 2))
	must(t, d.Set(ctx, "c", 3))
	if v, ok, err := d.Get(ctx, "b"); v != 2 || !ok || err != nil {
		t.Errorf("Get(b) = %v, %v, %v; want 2, true, nil", v, ok, err)
	}
	if _, ok, err := d.Get(ctx, "zz"); ok || err != nil {
		t.Errorf("Get(zz) = %v, %v; want false, nil", ok, err)
	}
	if keys, _ := d.Keys(ctx); !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Errorf("Keys = %v, want insertion order a b c", keys)
	}
	if ok, _ := d.Delete(ctx, "a"); !ok {
		t.Error("Delete(a) = false")
	}
	if n, _ := d.Len(ctx); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
	if v, err := d.Add(ctx, "n", 5); v != 5 || err != nil {
		t.Errorf("Add on a missing key = %v, %v; want 5", v, err)
	}
	if v, _ := d.Add(ctx, "n", -2); v != 3 {
		t.Errorf("Add = %v, want 3", v)
	}
	if ok, _ := d.CompareAndSwap(ctx, "n", 3, 10); !ok {
		t.Error("CompareAndSwap(3→10) failed")
	}
	if ok, _ := d.CompareAndSwap(ctx, "n", 3, 11); ok {
		t.Error("CompareAndSwap with a stale old value succeeded")
	}
	must(t, d.Update(ctx, map[string]int{"x": 7, "y": 8}))
	m, err := d.Copy(ctx)
	if err != nil || len(m) != 5 || m["x"] != 7 || m["n"] != 10 {
		t.Errorf("Copy = %v, %v", m, err)
	}
	if v, _ := d.SetDefault(ctx, "x", 99); v != 7 {
		t.Errorf("SetDefault on a present key = %d, want 7", v)
	}
	if v, ok, _ := d.Pop(ctx, "x"); v != 7 || !ok {
		t.Errorf("Pop = %v, %v", v, ok)
	}
	must(t, d.Clear(ctx))
	if n, _ := d.Len(ctx); n != 0 {
		t.Errorf("Len after Clear = %d", n)
	}
}

func TestDictAddNotNumber(t *testing.T) {
	ctx := testCtx(t)
	c := local(t)
	d, err := manager.NewDict[string, string](ctx, c, map[string]string{"s": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add(ctx, "s", "y"); !errors.Is(err, manager.ErrNotNumber) {
		t.Errorf("Add on strings = %v, want ErrNotNumber", err)
	}
}

func TestClosedProxy(t *testing.T) {
	ctx := testCtx(t)
	c := local(t)
	d, _ := manager.NewDict[int, int](ctx, c, nil)
	d.Close()
	if err := d.Set(ctx, 1, 1); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("Set after Close = %v, want mp.ErrClosed", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
