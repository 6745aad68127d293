package subprocess

import (
	"context"
	"errors"
	"sync"
)

// PipelineResult is what RunPipeline returns.
type PipelineResult struct {
	// Commands holds one CompletedProcess per command, in order, each with
	// its own Args, ReturnCode and (when captured) Stderr. The last one's
	// Stdout is the pipeline's captured output.
	Commands []*CompletedProcess
}

// ReturnCode is the pipeline's status as with the shell's pipefail option:
// the return code of the last command that failed, or 0 if none did.
func (r *PipelineResult) ReturnCode() int {
	if i := r.failed(); i >= 0 {
		return r.Commands[i].ReturnCode
	}
	return 0
}

// Stdout is the captured output of the last command.
func (r *PipelineResult) Stdout() []byte {
	return r.Commands[len(r.Commands)-1].Stdout
}

// failed returns the index of the last command with a non-zero return
// code, or -1.
func (r *PipelineResult) failed() int {
	for i := len(r.Commands) - 1; i >= 0; i-- {
		if r.Commands[i].ReturnCode != 0 {
			return i
		}
	}
	return -1
}

// RunPipeline runs cmds connected as a shell pipeline, cmd1 | cmd2 | …:
// each command's stdout is the next one's stdin, through a pipe between the
// children (the parent copies nothing). It waits for all of them and
// reports every return code.
//
// opts applies as follows: Stdin and Input to the first command; Stdout to
// the last; Stderr to each command (Pipe captures each one's stderr
// separately; a Writer must then be safe for concurrent use); Capture to
// the last command's stdout and to every stderr; Timeout and ctx to the
// whole pipeline, every command of which is stopped when they end; Check
// gives a *CalledProcessError for the last command that failed, with the
// pipeline's output as Stdout. The other fields apply to every command.
//
// The result is returned whenever every command started, even with an
// error.
func RunPipeline(ctx context.Context, cmds [][]string, opts *Options) (*PipelineResult, error) {
	base, err := pipelineBase(cmds, opts)
	if err != nil {
		return nil, err
	}
	procs, err := startPipeline(ctx, cmds, base)
	if err != nil {
		return nil, err
	}
	res, err := communicateAll(ctx, procs, base.Input)
	if err != nil || !base.Check {
		return res, err
	}
	if i := res.failed(); i >= 0 {
		c := res.Commands[i]
		return res, &CalledProcessError{Args: c.Args, ReturnCode: c.ReturnCode, Stdout: res.Stdout(), Stderr: c.Stderr}
	}
	return res, nil
}

// pipelineBase checks opts and applies Input and Capture.
func pipelineBase(cmds [][]string, opts *Options) (*Options, error) {
	if len(cmds) == 0 {
		return nil, ErrNoCommand
	}
	s := &settings{}
	if opts != nil {
		s.Options = *opts
	}
	if err := s.applyShorthands(); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if _, ok := s.Stdin.(popenRedirect); ok {
		return nil, badOptions("StdoutOf as the Stdin of a pipeline")
	}
	s.Capture = false
	return &s.Options, nil
}

// stage returns the options of command i of n.
func (base *Options) stage(i, n int, prev *Popen) *Options {
	o := *base
	o.Input, o.Check = nil, false
	if i > 0 {
		o.Stdin = StdoutOf(prev)
	}
	if i < n-1 {
		o.Stdout = Pipe
	}
	return &o
}

// startPipeline starts every command, or none: if one fails to start, the
// ones already started are killed and reaped.
func startPipeline(ctx context.Context, cmds [][]string, base *Options) ([]*Popen, error) {
	procs := make([]*Popen, 0, len(cmds))
	var prev *Popen
	for i, args := range cmds {
		p, err := Start(ctx, args, base.stage(i, len(cmds), prev))
		if err != nil {
			abortPipeline(procs)
			return nil, err
		}
		procs = append(procs, p)
		prev = p
	}
	return procs, nil
}

func abortPipeline(procs []*Popen) {
	for _, p := range procs {
		if p.KillGroup() != nil {
			_ = p.Kill()
		}
	}
	for _, p := range procs {
		_, _, _ = p.Communicate(context.Background(), nil)
	}
}

// communicateAll serves every command's pipes at once and waits for all.
func communicateAll(ctx context.Context, procs []*Popen, input []byte) (*PipelineResult, error) {
	res := &PipelineResult{Commands: make([]*CompletedProcess, len(procs))}
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		in := input
		if i > 0 {
			in = nil
		}
		wg.Go(func() {
			stdout, stderr, err := p.Communicate(context.WithoutCancel(ctx), in)
			code, _ := p.Poll()
			res.Commands[i] = &CompletedProcess{Args: p.Args, ReturnCode: code, Stdout: stdout, Stderr: stderr}
			errs[i] = err
		})
	}
	wg.Wait()
	return res, pipelineError(res, errs)
}

// pipelineError picks the error to report: a timeout first (carrying the
// pipeline's output), then any other.
func pipelineError(res *PipelineResult, errs []error) error {
	for _, err := range errs {
		var te *TimeoutExpired
		if errors.As(err, &te) {
			te.Stdout = res.Stdout()
			return te
		}
	}
	return errors.Join(errs...)
}
