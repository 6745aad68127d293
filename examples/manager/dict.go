package manager

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/manager"
)

func init() {
	examples.Add(examples.Example{Seed: 63, Topic: "manager", Name: "manager-dict-set", Title: "a child changes a manager dict; the parent sees it", Run: dictSet})
	examples.Add(examples.Example{Seed: 64, Topic: "manager", Name: "manager-dict-decrement", Title: "one child decrements a counter in a manager dict", Run: dictDecrement})
	examples.Add(examples.Example{Seed: 67, Topic: "manager", Name: "manager-dict-list", Title: "five processes fill a manager dict and list", Run: dictList})
}

var setName = mp.Register("examples.manager.setName", func(ctx context.Context, d *manager.Dict[string, string]) (struct{}, error) {
	return struct{}{}, d.Set(ctx, "name", "Wang Leehom") // changes the dict in the manager's process
})

// dictSet is seed 63: Manager().dict(initial), passed to a child.
func dictSet(ctx context.Context, w io.Writer) error {
	m, err := manager.Start(ctx, nil) // the manager's server process
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := manager.NewDict(ctx, m, map[string]string{"name": "Wang Naihui"})
	if err != nil {
		return err
	}
	if err := printDict(ctx, w, "main process>>> ", d); err != nil {
		return err
	}
	p := mp.Command(setName, d)
	p.Stdout = w
	if err := p.Run(ctx); err != nil {
		return err
	}
	return printDict(ctx, w, "main process>>> ", d)
}

func printDict[K interface {
	comparable
	~int | ~string
}, V any](ctx context.Context, w io.Writer, prefix string, d *manager.Dict[K, V]) error {
	m, err := d.Copy(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, prefix+pyDict(m))
	return err
}

var decrement = mp.Register("examples.manager.decrement", func(ctx context.Context, d *manager.Dict[string, int]) (struct{}, error) {
	n, _, err := d.Get(ctx, "count")
	if err != nil {
		return struct{}{}, err
	}
	if err := d.Set(ctx, "count", n-1); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, printDict(ctx, os.Stdout, "", d)
})

// dictDecrement is seed 64: the child prints the dict after its change, the
// parent after join.
func dictDecrement(ctx context.Context, w io.Writer) error {
	m, err := manager.Start(ctx, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := manager.NewDict(ctx, m, map[string]int{"count": 100})
	if err != nil {
		return err
	}
	p := mp.Command(decrement, d)
	p.Stdout = w
	if err := p.Run(ctx); err != nil {
		return err
	}
	return printDict(ctx, w, "", d)
}

// fillArg is what each of seed 67's processes gets.
type fillArg struct {
	D *manager.Dict[int, int]
	L *manager.List[int]
	I int
}

var fill = mp.Register("examples.manager.fill", func(ctx context.Context, a fillArg) (struct{}, error) {
	if err := a.D.Set(ctx, a.I, a.I+1); err != nil { // every process adds a dict entry
		return struct{}{}, err
	}
	return struct{}{}, a.L.Append(ctx, a.I) // and appends to the list
})

// dictList is seed 67: five processes fill a manager dict and list.
func dictList(ctx context.Context, w io.Writer) error {
	m, err := manager.Start(ctx, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := manager.NewDict[int, int](ctx, m, nil)
	if err != nil {
		return err
	}
	l, err := manager.NewList[int](ctx, m, nil)
	if err != nil {
		return err
	}
	var procs []*mp.Process
	for i := range 5 {
		procs = append(procs, mp.Command(fill, fillArg{D: d, L: l, I: i}))
	}
	if err := runAll(ctx, procs); err != nil {
		return err
	}
	items, err := d.Items(ctx) // in insertion order, which varies
	if err != nil {
		return err
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = fmt.Sprintf("%d: %d", it.Key, it.Value)
	}
	all, err := l.All(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "{"+joinComma(parts)+"}")
	fmt.Fprintln(w, pyList(all))
	return nil
}

// runAll starts every process, then waits for each and releases it.
func runAll(ctx context.Context, procs []*mp.Process) error {
	var first error
	started := procs[:0:0]
	for _, p := range procs {
		if err := p.Start(); err != nil {
			first = err
			break
		}
		started = append(started, p)
	}
	for _, p := range started {
		if err := p.Wait(ctx); err != nil && first == nil {
			first = err
		}
		p.Close()
	}
	return first
}

func joinComma(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}
