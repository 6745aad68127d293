package mp

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// Call runs fn(ctx, arg) once in a new process and returns its result. When
// ctx ends first, the process is killed (deadlines really kill, even a
// function that ignores its context) and Call returns an error that matches
// ctx's error (and ErrTimeout for a deadline).
//
// A call costs a process start: a few milliseconds with Spawn, far less with
// Forkserver. For many calls, use a Pool.
func Call[In, Out any](ctx context.Context, fn Func[In, Out], arg In) (Out, error) {
	var zero Out
	p := Command(fn, arg)
	if err := p.Start(); err != nil {
		return zero, err
	}
	defer p.Close()
	if err := p.Wait(ctx); err != nil {
		if !p.ended() {
			p.Kill()
			<-p.Done()
			return zero, callCtxErr(fn.name, err)
		}
		if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
			return zero, err
		}
		// It ended just as ctx did: its own outcome wins.
	}
	return Result[Out](p)
}

// Result returns what the function of p returned, once p has ended
// normally; Out must be the function's result type. It returns Wait's error
// if p failed, ErrNotReady if p has not ended, and an error if the function
// left no result (it called os.Exit(0)). The result can be taken once: its
// handles, if any, belong to the caller.
func Result[Out any](p *Process) (Out, error) {
	var zero Out
	if !p.ended() {
		return zero, ErrNotReady
	}
	if err := p.Wait(context.Background()); err != nil {
		return zero, err
	}
	res := p.takeResult()
	if res == nil {
		return zero, fmt.Errorf("%w: %s exited before returning", errNoResult, p.fn)
	}
	var out Out
	if err := wire.Unmarshal(res.Value, res.FDs, &out); err != nil {
		return zero, fmt.Errorf("mp: decode the result of %s: %w", p.fn, err)
	}
	return out, nil
}

// callCtxErr is the error of a call whose context ended: it matches the
// context's error, and ErrTimeout for a deadline.
func callCtxErr(name string, err error) error {
	return fmt.Errorf("mp: %s killed: %w", name, errs.Deadline(err))
}
