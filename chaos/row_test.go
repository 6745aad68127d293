package chaos_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp/chaos"
)

func TestRowFailures(t *testing.T) {
	r := chaos.Row{Counts: []chaos.Count{
		{Name: "tasks", N: 10},
		{Name: "lost", N: 0, Check: true},
		{Name: "twice", N: 2, Check: true},
	}}
	if r.Pass() {
		t.Fatal("a row with twice=2 (want 0) passes")
	}
	if got, want := r.Failures(), []string{"twice = 2, want 0"}; !slices.Equal(got, want) {
		t.Fatalf("Failures() = %q, want %q", got, want)
	}
	r.Counts[2].N = 0
	if !r.Pass() {
		t.Fatalf("a row with every count as wanted fails: %q", r.Failures())
	}
	r.Errors = []string{"no holder stayed"}
	if r.Pass() {
		t.Fatal("a row with an error passes")
	}
}

func ExampleWriteTable() {
	rows := []chaos.Row{{
		Name:    "lock-kill",
		Counts:  []chaos.Count{{Name: "kills", N: 50}, {Name: "ownerDead", N: 49, Want: 50, Check: true}},
		Figures: []chaos.Figure{{Name: "p99", Value: "4ms"}},
		Elapsed: 3 * time.Second,
	}}
	chaos.WriteTable(os.Stdout, rows)
	// Output:
	// EXPERIMENT  RESULT  TIME  COUNTS                          FIGURES
	// lock-kill   FAIL    3.0s  kills=50 ownerDead=49(want 50)  p99=4ms
	// lock-kill: FAIL: ownerDead = 49, want 50
}
