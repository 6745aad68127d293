package chaos

import (
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/race"
)

// A latency past its goal is flagged, not failed; with the race detector
// on, which the goals are not written for, it is flagged as such.
func TestGoalFlags(t *testing.T) {
	r := Row{Name: "lock-kill"}
	r.goal("p99", 4*time.Millisecond, 5*time.Millisecond)
	if len(r.Flags)+len(r.RaceFlags) != 0 {
		t.Fatalf("a figure within its goal is flagged: %q %q", r.Flags, r.RaceFlags)
	}
	r.goal("p99", 12*time.Millisecond, 5*time.Millisecond)
	flags, other := r.Flags, r.RaceFlags
	want := "lock-kill: past goal: p99 12ms > 5ms"
	if race.Enabled {
		flags, other = other, flags
		want = "lock-kill: past goal with the race detector on, which the goal is not for: p99 12ms > 5ms"
	}
	if len(flags) != 1 || len(other) != 0 {
		t.Fatalf("Flags %q, RaceFlags %q; want one flag (race detector on: %v)", r.Flags, r.RaceFlags, race.Enabled)
	}
	if !r.Pass() {
		t.Error("a figure past its goal fails the row")
	}
	var b strings.Builder
	if err := WriteTable(&b, []Row{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), want+"\n") {
		t.Errorf("WriteTable printed\n%s\nwithout the line %q", b.String(), want)
	}
}
