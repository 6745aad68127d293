package proc

import (
	"os"
	"testing"
)

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Sync copies what the pipe held when it was called, not what the child
// goes on writing meanwhile: here every line written out makes the "child"
// write another, which an unbounded Sync would chase for ever.
func TestOutputSyncIsBounded(t *testing.T) {
	var pw *os.File
	lines := 0
	w := writerFunc(func(p []byte) (int, error) {
		if lines++; lines > 1000 {
			t.Fatal("Sync went on copying what was written after it began")
		}
		pw.Write([]byte("more\n"))
		return len(p), nil
	})
	oc, pw, err := newOutputCopy(w, func(func()) {}) // no copying goroutine
	if err != nil {
		t.Fatal(err)
	}
	defer oc.r.Close()
	defer pw.Close()
	for range 10 {
		pw.Write([]byte("line\n"))
	}
	oc.Sync()
	if lines != 10 {
		t.Fatalf("Sync wrote %d lines, want the 10 the pipe held", lines)
	}
}
