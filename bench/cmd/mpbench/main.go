// Command mpbench measures mp on this machine. It prints one line per
// figure, `name value unit`, with the same names as the CPython counterpart
// in bench/cpython, so that bench/compare can set them side by side.
//
//	go run ./bench/cmd/mpbench [-quick] [-only start,pipe,...]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/mpgo/mp"
)

// group is a set of figures measured together; each file of this command
// adds its own with addGroup.
type group struct {
	name string
	run  func(ctx context.Context, b *bench) error
}

var groups []group

func addGroup(name string, run func(ctx context.Context, b *bench) error) {
	groups = append(groups, group{name, run})
}

// bench is what a group needs: whether to run short, and where to print.
type bench struct {
	quick bool
}

// emit prints one figure.
func (b *bench) emit(name string, value float64, unit string) {
	fmt.Printf("%s %.6g %s\n", name, value, unit)
}

// n returns full, or a tenth of it (at least 1) in quick mode.
func (b *bench) n(full int) int {
	if b.quick {
		return max(1, full/10)
	}
	return full
}

func main() {
	mp.Main()
	quick := flag.Bool("quick", false, "fewer iterations")
	only := flag.String("only", "", "comma-separated groups to run (default all)")
	flag.Parse()
	if err := run(context.Background(), *quick, *only); err != nil {
		fmt.Fprintln(os.Stderr, "mpbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, quick bool, only string) error {
	want := strings.FieldsFunc(only, func(r rune) bool { return r == ',' })
	sort.SliceStable(groups, func(i, j int) bool { return groupOrder(groups[i].name) < groupOrder(groups[j].name) })
	fmt.Printf("# mp %s cpus %d\n", runtime.Version(), runtime.NumCPU())
	b := &bench{quick: quick}
	for _, g := range groups {
		if len(want) > 0 && !slices.Contains(want, g.name) {
			continue
		}
		if err := g.run(ctx, b); err != nil {
			return fmt.Errorf("%s: %w", g.name, err)
		}
	}
	return nil
}

var order = []string{"start", "queue", "pipe", "lent", "lock", "manager", "pool", "subprocess"}

func groupOrder(name string) int {
	if i := slices.Index(order, name); i >= 0 {
		return i
	}
	return len(order)
}
