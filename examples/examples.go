// Package examples holds the Go ports of the seed programs: the Python
// programs that mp's feature set was specified from, kept in the seeds
// directory next to this file. Each topic lives in its own subpackage
// (process, pipe, queue, sync, shm, pool, manager, subprocess, threading),
// registers its examples with Add at init time, and is run by `mp tour`.
//
// An example writes everything it prints to the writer it is given, and
// passes that writer on as Stdout of the processes it starts, so that a test
// can capture the whole output and check its shape. Where a port differs
// from its Python original, it says so in a line printed by Note.
package examples

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Example is one runnable program of the tour.
type Example struct {
	// Seed is the number of the seed program this example ports (1–94), or
	// zero for an example of mp's own.
	Seed int
	// Also lists other seed programs this example runs too, such as the
	// client of a server; Select finds the example by their numbers.
	Also []int
	// Topic groups examples in the tour: "process", "pipe", "queue", "sync",
	// "shm", "pool", "manager", "subprocess", "threading".
	Topic string
	// Name is a short identifier, unique in the tour, such as "process-info".
	Name string
	// Title says in one line what the example shows.
	Title string
	// Run runs the example, writing its output to w. It returns an error if
	// the example could not do what it shows.
	Run func(ctx context.Context, w io.Writer) error
}

// ID is the example's number as shown by the tour: its seed number, or its
// name when it has none.
func (e Example) ID() string {
	if e.Seed == 0 {
		return e.Name
	}
	return fmt.Sprintf("%02d", e.Seed)
}

// registry guards the set of examples added at init time.
var registry struct {
	sync.Mutex
	all []Example
}

// Add registers an example. It is meant to be called from init functions;
// it panics on a duplicate name or seed, or on a missing Run.
func Add(e Example) {
	if e.Run == nil || e.Name == "" || e.Topic == "" {
		panic("examples: Add needs Name, Topic and Run")
	}
	registry.Lock()
	defer registry.Unlock()
	for _, o := range registry.all {
		if o.Name == e.Name || (e.Seed != 0 && o.Seed == e.Seed) {
			panic(fmt.Sprintf("examples: %s registered twice", e.ID()))
		}
	}
	registry.all = append(registry.all, e)
}

// All returns every registered example, ordered by topic order, then seed
// (examples without one last), then name.
func All() []Example {
	registry.Lock()
	defer registry.Unlock()
	out := slices.Clone(registry.all)
	slices.SortFunc(out, compare)
	return out
}

// Topics is the order in which the tour presents topics.
var Topics = []string{"process", "pipe", "queue", "sync", "shm", "pool", "manager", "subprocess", "threading"}

func compare(a, b Example) int {
	ta, tb := slices.Index(Topics, a.Topic), slices.Index(Topics, b.Topic)
	if ta != tb {
		return cmp.Compare(ta, tb)
	}
	if a.Seed != b.Seed {
		// Examples of mp's own (seed 0) come after the seed programs.
		return cmp.Compare(uint(a.Seed-1), uint(b.Seed-1))
	}
	return strings.Compare(a.Name, b.Name)
}

// Select returns the examples a tour argument names: a topic, a seed number
// ("7" or "07", found also in Also), or an example name. An unknown
// selector returns an error.
func Select(sel string) ([]Example, error) {
	var out []Example
	for _, e := range All() {
		if e.Topic == sel || e.Name == sel || e.ID() == sel || e.runsSeed(sel) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("examples: no topic, seed or example named %q (try -list)", sel)
	}
	return out, nil
}

// runsSeed reports whether sel is the number of a seed program that e
// runs, its own or one in Also.
func (e Example) runsSeed(sel string) bool {
	n, err := strconv.Atoi(sel)
	if err != nil || n <= 0 {
		return false
	}
	return n == e.Seed || slices.Contains(e.Also, n)
}
