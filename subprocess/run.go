package subprocess

import (
	"bytes"
	"context"
	"io"
)

// CompletedProcess is what Run returns: Python's subprocess.CompletedProcess.
type CompletedProcess struct {
	// Args is the command as run: with Options.Shell it starts with
	// "/bin/sh", "-c".
	Args []string
	// ReturnCode is the exit status, or -N if signal N killed the process.
	ReturnCode int
	// Stdout and Stderr hold the captured output of streams that were
	// Pipe (non-nil, possibly empty), and are nil otherwise. With Stderr:
	// ToStdout, Stdout holds both.
	Stdout, Stderr []byte
}

// CheckReturnCode returns a *CalledProcessError if ReturnCode is not zero.
// Python: CompletedProcess.check_returncode.
func (cp *CompletedProcess) CheckReturnCode() error {
	if cp.ReturnCode == 0 {
		return nil
	}
	return &CalledProcessError{Args: cp.Args, ReturnCode: cp.ReturnCode, Stdout: cp.Stdout, Stderr: cp.Stderr}
}

// Run runs args, waits for it to end and returns how it went: Python's
// subprocess.run. opts may be nil. Pipe streams are captured (Input is
// written to stdin); see Options for the rest.
//
// When ctx ends or Options.Timeout expires, Run stops the process, its
// process group and what Options.Contain reaches beyond the group (see
// Options.Grace), and returns, once the process has been reaped, a
// *TimeoutExpired that holds the output read until then. With the default
// ContainSubreaper, nothing it started is left running, even a descendant
// that left the group, except one that also dropped the marker in its
// environment (see ContainSubreaper); with ContainCgroup, nothing at all;
// with ContainGroup, what left the group runs on. Run returns promptly even when such a descendant holds the output
// pipes. With Options.Check, a non-zero return code gives a
// *CalledProcessError.
//
// When the process exits by itself, what it started in the background
// runs on, as in Python, except under ContainCgroup, which kills it before
// Run returns.
//
// Whenever the process started, the *CompletedProcess is returned, even
// with an error. Run with Options.Check is Python's check_call when nothing
// is captured.
func Run(ctx context.Context, args []string, opts *Options) (*CompletedProcess, error) {
	p, err := start(ctx, args, opts, 0)
	if err != nil {
		return nil, err
	}
	var input []byte
	if opts != nil {
		input = opts.Input
	}
	if i := p.lonePipe(input); i > 0 {
		return p.runLonePipe(i, opts)
	}
	// Serve the pipes, then reap the child from this goroutine, which has
	// nothing else to do meanwhile.
	if _, err := p.communicator(input); err != nil {
		// Unreachable: Input implies a stdin pipe. Leave nothing behind.
		_ = p.proc.Kill()
		p.reap()
		_, _ = p.Wait(context.Background())
		return nil, err
	}
	p.reap()
	// The supervisor ends the process when ctx does; until then, and
	// while it drains the pipes, Communicate must not give up.
	stdout, stderr, err := p.Communicate(context.WithoutCancel(ctx), nil)
	return p.completed(stdout, stderr, err, opts)
}

// completed builds Run's result once the process has been waited for.
func (p *Popen) completed(stdout, stderr []byte, err error, opts *Options) (*CompletedProcess, error) {
	code, _ := p.Poll()
	cp := &CompletedProcess{Args: p.Args, ReturnCode: code, Stdout: stdout, Stderr: stderr}
	if err != nil {
		return cp, err
	}
	if opts != nil && opts.Check {
		return cp, cp.CheckReturnCode()
	}
	return cp, nil
}

// lonePipe returns the index of the process's only pipe when it is an
// output that Run may read by itself: nothing else to serve and nothing to
// enforce (no timeout, cancellable context or WaitDelay, and no cgroup to
// end when the child exits, which may close the pipe). Otherwise it
// returns 0.
func (p *Popen) lonePipe(input []byte) int {
	if p.superDone != nil || p.cg != nil || input != nil || p.pipes[0] != nil {
		return 0
	}
	switch {
	case p.pipes[1] != nil && p.pipes[2] == nil:
		return 1
	case p.pipes[2] != nil && p.pipes[1] == nil:
		return 2
	}
	return 0
}

// runLonePipe reads pipe i to its end in this goroutine, as CPython's
// communicate does with a single pipe, then reaps the child. The pipe is
// switched to blocking mode, so that this goroutine waits in read(2)
// itself, without a trip through the poller; this saves a few percent of
// a short run.
func (p *Popen) runLonePipe(i int, opts *Options) (*CompletedProcess, error) {
	f := p.pipes[i]
	p.pipes[i] = nil
	f.Fd() // blocking mode
	data, _ := io.ReadAll(f)
	f.Close()
	p.reap()
	_, err := p.Wait(context.Background())
	if i == 1 {
		return p.completed(data, nil, err, opts)
	}
	return p.completed(nil, data, err, opts)
}

// Call runs args and returns its return code: Python's subprocess.call.
// The error is non-nil only if the process could not start (code -1) or
// was stopped by a timeout or ctx.
func Call(ctx context.Context, args []string, opts *Options) (int, error) {
	cp, err := Run(ctx, args, withCheck(opts, false))
	if cp == nil {
		return -1, err
	}
	return cp.ReturnCode, err
}

// CheckCall runs args and returns a *CalledProcessError if its return code
// is not zero: Python's subprocess.check_call.
func CheckCall(ctx context.Context, args []string, opts *Options) error {
	_, err := Run(ctx, args, withCheck(opts, true))
	return err
}

// CheckOutput runs args with stdout captured and returns it, with a
// *CalledProcessError if the return code is not zero: Python's
// subprocess.check_output. Setting opts.Stdout or opts.Capture is an
// error. The output read is returned even with an error.
func CheckOutput(ctx context.Context, args []string, opts *Options) ([]byte, error) {
	o := withCheck(opts, true)
	if o.Stdout != nil || o.Capture {
		return nil, badOptions("CheckOutput sets Stdout itself")
	}
	o.Stdout = Pipe
	cp, err := Run(ctx, args, o)
	if cp == nil {
		return nil, err
	}
	return cp.Stdout, err
}

// GetStatusOutput runs cmd through the shell with stderr merged into
// stdout, and returns the return code and the output without its final
// newline: Python's subprocess.getstatusoutput. A non-zero return code is
// not an error.
func GetStatusOutput(ctx context.Context, cmd string) (int, string, error) {
	cp, err := Run(ctx, []string{cmd}, &Options{Shell: true, Stdout: Pipe, Stderr: ToStdout})
	if cp == nil {
		return -1, "", err
	}
	return cp.ReturnCode, string(bytes.TrimSuffix(cp.Stdout, []byte("\n"))), err
}

// GetOutput is GetStatusOutput without the return code: Python's
// subprocess.getoutput.
func GetOutput(ctx context.Context, cmd string) (string, error) {
	_, out, err := GetStatusOutput(ctx, cmd)
	return out, err
}

// withCheck returns a copy of opts (or of the zero Options) with Check set.
func withCheck(opts *Options, check bool) *Options {
	o := &Options{}
	if opts != nil {
		*o = *opts
	}
	o.Check = check
	return o
}
