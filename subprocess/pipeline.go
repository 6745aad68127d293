package subprocess

import (
	"context"
	"errors"
	"sync"
	"time"
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
// whole pipeline; Check gives a *CalledProcessError for the last command
// that failed, with the pipeline's output as Stdout. The other fields apply
// to every command.
//
// When a timeout or ctx can stop the pipeline, or Group is GroupNew, its
// commands share one new process group, as a shell's job does: the first
// command leads it and the others join it. When the timeout expires or ctx
// ends, the whole group is killed at once (after a SIGTERM and Grace, if
// set), so that no command sees its input end and exits as if the work
// were done (Options.Contain then reaches each command's descendants that
// left the group): the ReturnCode of every command still running shows the
// signal, and the error is a *TimeoutExpired that names the pipeline. With GroupParent the
// commands stay in the caller's group, and with NewSession each leads a
// session of its own: then each command is stopped on its own, and one
// that saw its input end first may have exited by itself.
//
// The result is returned whenever every command started, even with an
// error.
func RunPipeline(ctx context.Context, cmds [][]string, opts *Options) (*PipelineResult, error) {
	base, err := pipelineBase(cmds, opts)
	if err != nil {
		return nil, err
	}
	timeout := base.Timeout
	ctx, cancel := pipelineContext(ctx, timeout)
	defer cancel()
	base.Timeout = 0 // ctx carries it: one deadline for every command
	procs, err := startPipeline(ctx, cmds, base)
	if err != nil {
		return nil, err
	}
	res, errs := communicateAll(ctx, procs, base.Input)
	if context.Cause(ctx) != errPipelineTimeout {
		timeout = 0 // not what stopped it, if anything did
	}
	if err := pipelineError(res, errs, timeout); err != nil || !base.Check {
		return res, err
	}
	if i := res.failed(); i >= 0 {
		c := res.Commands[i]
		return res, &CalledProcessError{Args: c.Args, ReturnCode: c.ReturnCode, Stdout: res.Stdout(), Stderr: c.Stderr}
	}
	return res, nil
}

// errPipelineTimeout is the cause of a pipeline context whose
// Options.Timeout expired.
var errPipelineTimeout = errors.New("subprocess: pipeline timeout")

// pipelineContext returns ctx bounded by timeout, if it is positive. A
// context that cannot end stays so: it puts no command in a group of its
// own (see GroupAuto).
func pipelineContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, timeout, errPipelineTimeout)
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

// stage returns the options of command i of n; started holds the
// commands before it.
func (base *Options) stage(i, n int, started []*Popen) *Options {
	o := *base
	o.Input, o.Check = nil, false
	if i > 0 {
		o.Stdin = StdoutOf(started[i-1])
	}
	if i < n-1 {
		o.Stdout = Pipe
	}
	return &o
}

// startPipeline starts every command, or none: if one fails to start, the
// ones already started are killed and reaped. The commands join the first
// one's process group, if it leads one and they may: a command that leads
// a session of its own cannot.
func startPipeline(ctx context.Context, cmds [][]string, base *Options) ([]*Popen, error) {
	procs := make([]*Popen, 0, len(cmds))
	var err error
	for i, args := range cmds {
		pgid := 0
		if i > 0 && !base.NewSession {
			pgid = procs[0].pgid
		}
		var p *Popen
		if p, err = start(ctx, args, base.stage(i, len(cmds), procs), pgid); err != nil {
			break
		}
		procs = append(procs, p)
	}
	// The first command is reaped only now: until then its process group
	// exists for the others to join, even if it has already exited.
	for _, p := range procs {
		go p.reap()
	}
	if err != nil {
		abortPipeline(procs)
		return nil, err
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

// communicateAll serves every command's pipes at once, waits for all, and
// returns their results and errors.
func communicateAll(ctx context.Context, procs []*Popen, input []byte) (*PipelineResult, []error) {
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
	return res, errs
}

// pipelineError picks the error to report: when ctx stopped any command, a
// *TimeoutExpired for the whole pipeline that carries its output; else
// the commands' errors joined.
func pipelineError(res *PipelineResult, errs []error, timeout time.Duration) error {
	for _, err := range errs {
		var te *TimeoutExpired
		if errors.As(err, &te) {
			cmds := make([][]string, len(res.Commands))
			for i, c := range res.Commands {
				cmds[i] = c.Args
			}
			return &TimeoutExpired{Pipeline: cmds, Timeout: timeout, Stdout: res.Stdout(), Err: te.Err}
		}
	}
	return errors.Join(errs...)
}
