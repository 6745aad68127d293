package pool

import "testing"

func TestCancelMarksDropOldestFirst(t *testing.T) {
	wl := &workerLoop{cancelled: map[uint64]bool{}}
	for id := range uint64(maxMarks + 10) {
		wl.markLocked(id)
	}
	if len(wl.cancelled) != maxMarks {
		t.Fatalf("%d marks, want %d", len(wl.cancelled), maxMarks)
	}
	if wl.cancelled[0] || wl.cancelled[9] || !wl.cancelled[10] || !wl.cancelled[maxMarks+9] {
		t.Error("the oldest marks were not the ones dropped")
	}
	for id := range uint64(3 * maxMarks) {
		delete(wl.cancelled, id) // used by the tasks they mark
		wl.markLocked(1<<40 + id)
	}
	if len(wl.markOrder) > 2*maxMarks+1 {
		t.Errorf("mark order grew to %d", len(wl.markOrder))
	}
}
