package examples

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/mpgo/mp"
)

// Sleep pauses for d, or until ctx ends; then it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitAll waits for every process and returns their errors joined.
func WaitAll(ctx context.Context, procs ...*mp.Process) error {
	var errs []error
	for _, p := range procs {
		errs = append(errs, p.Wait(ctx))
	}
	return errors.Join(errs...)
}

// StartAll starts the processes in order. If one fails to start, it kills
// and waits for those already started, so that none is left behind, and
// returns the error.
func StartAll(procs ...*mp.Process) error {
	for i, p := range procs {
		if err := p.Start(); err != nil {
			stop(procs[:i])
			return err
		}
	}
	return nil
}

// StartN starts n processes of fn, the i-th with argument arg(i), each
// writing its output to w; like StartAll, it leaves none running if one
// fails to start.
func StartN[In, Out any](n int, w io.Writer, fn mp.Func[In, Out], arg func(i int) In) ([]*mp.Process, error) {
	procs := make([]*mp.Process, n)
	for i := range n {
		procs[i] = mp.Command(fn, arg(i))
		procs[i].Stdout = w
	}
	if err := StartAll(procs...); err != nil {
		return nil, err
	}
	return procs, nil
}

func stop(procs []*mp.Process) {
	for _, p := range procs {
		p.Kill()
		p.Wait(context.Background())
	}
}
