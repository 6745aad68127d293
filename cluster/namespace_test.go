package cluster_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// point is a field type of a namespace.
type point struct{ X, Y int }

// namespaceSet sets the field "p" of the namespace Name to (N, N+1).
var namespaceSet = mp.Register("cluster.test.namespaceSet", func(ctx context.Context, j dictJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	ns, err := cluster.NewNamespace(ctx, c, j.Name)
	if err != nil {
		return 0, err
	}
	return 0, ns.Set(ctx, "p", point{j.N, j.N + 1})
})

func TestNamespaceAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	ns, err := cluster.NewNamespace(ctx, c, "config")
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.Set(ctx, "name", "run 7"); err != nil {
		t.Fatal(err)
	}
	childResult[int](t, ctx, startChild(t, mp.Command(namespaceSet, dictJob{URL: c.URL(), Name: "config", N: 3})))
	var p point
	if err := ns.Get(ctx, "p", &p); err != nil || p != (point{3, 4}) {
		t.Fatalf("Get(p) = %v, %v; want {3 4}", p, err)
	}
	var s string
	if err := ns.Get(ctx, "name", &s); err != nil || s != "run 7" {
		t.Fatalf("Get(name) = %q, %v", s, err)
	}
	if err := ns.Get(ctx, "none", &s); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Get of a missing field = %v, want ErrNotFound", err)
	}
	names, err := ns.Names(ctx)
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"name", "p"}) {
		t.Fatalf("Names() = %v, %v", names, err)
	}
	if ok, err := ns.Delete(ctx, "p"); err != nil || !ok {
		t.Fatalf("Delete(p) = %v, %v", ok, err)
	}
	type hidden struct{ x int }
	if err := ns.Set(ctx, "h", hidden{1}); !errors.Is(err, mp.ErrUnencodable) {
		t.Fatalf("Set of an unencodable value = %v, want ErrUnencodable", err)
	}
}
