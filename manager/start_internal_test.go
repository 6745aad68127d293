package manager

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// A Start whose connection to the server it started fails stops that
// server and returns the error, instead of waiting for a Shutdown that no
// client will send.
func TestStartStopsServerWhenDialFails(t *testing.T) {
	failed := errors.New("dial failed")
	var started int
	startDial = func(ctx context.Context, address string, o DialOptions) (*Client, error) {
		for _, p := range mp.ActiveChildren() {
			if p.Alive() {
				started = p.Pid()
			}
		}
		return nil, failed
	}
	defer func() { startDial = dial }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, nil)
	if !errors.Is(err, failed) || c != nil {
		t.Fatalf("Start = %v, %v; want the dial's error", c, err)
	}
	if started == 0 {
		t.Fatal("no server process was running when Start dialled")
	}
	for _, p := range mp.ActiveChildren() {
		t.Errorf("process %d (%s) still running after the failed Start", p.Pid(), p.Name)
	}
}
