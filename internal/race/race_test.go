package race_test

import (
	"testing"

	"github.com/mpgo/mp/internal/race"
)

func TestGoroutine(t *testing.T) {
	if !race.Enabled {
		if g := race.Goroutine(); g != 0 {
			t.Errorf("Goroutine() = %d outside a race build, want 0", g)
		}
		return
	}
	mine := race.Goroutine()
	if mine == 0 || race.Goroutine() != mine {
		t.Fatalf("Goroutine() = %d, then %d: want one non-zero number", mine, race.Goroutine())
	}
	other := make(chan uint64)
	go func() { other <- race.Goroutine() }()
	if g := <-other; g == 0 || g == mine {
		t.Errorf("another goroutine's number = %d, this one's %d: want two non-zero numbers", g, mine)
	}
}
