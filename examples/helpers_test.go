package examples_test

import (
	"context"
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

var nap = mp.Register("examples.test.nap", func(ctx context.Context, d time.Duration) (struct{}, error) {
	time.Sleep(d)
	return struct{}{}, nil
})

// A process that fails to start leaves none of those before it running.
func TestStartAllStopsTheStartedOnFailure(t *testing.T) {
	mptest.CheckLeaks(t)
	first := mp.Command(nap, time.Minute)
	second := mp.Command(nap, time.Minute)
	second.Dir = "/nonexistent/dir"
	err := examples.StartAll(first, second)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("StartAll = %v, want the second's start error", err)
	}
	if first.Alive() {
		t.Fatal("the first process is still running")
	}
	if code, ok := first.ExitCode(); !ok || code != -9 {
		t.Errorf("first exit code = %d, %v; want -9 (killed)", code, ok)
	}
}

func TestStartN(t *testing.T) {
	mptest.CheckLeaks(t)
	procs, err := examples.StartN(3, nil, nap, func(i int) time.Duration { return time.Duration(i) * time.Millisecond })
	if err != nil || len(procs) != 3 {
		t.Fatalf("StartN = %d, %v", len(procs), err)
	}
	if err := examples.WaitAll(context.Background(), procs...); err != nil {
		t.Fatal(err)
	}
}
