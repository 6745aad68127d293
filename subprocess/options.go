package subprocess

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Options configures how a command runs. A nil *Options, like the zero
// Options, runs the command with the parent's stdin, stdout and stderr, in
// the parent's directory and environment, with no timeout. Every field is
// optional. The same Options may be used for many commands, concurrently.
type Options struct {
	// Stdin, Stdout and Stderr say where the child's standard streams come
	// from and go to: Pipe, DevNull, Inherit, a File, a Reader (Stdin) or a
	// Writer (Stdout, Stderr), StdoutOf another process (Stdin), or
	// ToStdout (Stderr). If nil, the child inherits the parent's stream, as
	// in Python (os/exec would use the null device).
	Stdin, Stdout, Stderr Redirect

	// Input, if non-nil, is written to the child's stdin, which is then
	// closed; it implies Stdin: Pipe, and any other Stdin is an error. An
	// empty non-nil slice gives the child an empty stdin.
	Input []byte

	// Capture captures stdout and stderr, as Python's capture_output:
	// it sets both to Pipe, and setting either as well is an error.
	Capture bool

	// Check makes Run return a *CalledProcessError when the command exits
	// with a non-zero status or is killed by a signal.
	Check bool

	// Timeout, if positive, bounds the life of the process, like a
	// deadline on the context: when it expires the process is stopped (see
	// Grace) and the error is a *TimeoutExpired.
	Timeout time.Duration

	// Grace is how long a process that a timeout or its context stops gets
	// between SIGTERM and SIGKILL. Both go to the process's group when it
	// leads one (see Group), and to what Contain reaches beyond it, so its
	// descendants get them too. The grace period ends early once the
	// process and the others that got SIGTERM have exited. If zero, they
	// all get SIGKILL at once, as the process alone does in Python's run.
	Grace time.Duration

	// WaitDelay bounds how long Wait, Communicate and Run keep reading and
	// writing the child's pipes after the child has exited; a descendant
	// that inherited them may hold them open. When it expires, what the
	// pipes already hold is read and they are closed. If zero, they are
	// read until end of file, as Python and os/exec do, except after a stop
	// by a timeout or the context, when a zero WaitDelay means
	// DefaultStopDrain.
	WaitDelay time.Duration

	// Shell runs the command through /bin/sh -c: Args[0] is the script and
	// the other arguments become $0, $1, …, as in Python on POSIX. Pass the
	// whole command line as one string: []string{"ls | grep x"}.
	Shell bool

	// Dir is the child's working directory. If empty, it is the parent's.
	Dir string

	// Env, if non-nil, replaces the child's environment (entries
	// "KEY=value"). If nil, the child gets the parent's environment.
	Env []string

	// ExtraEnv adds entries to the environment (Env, or the parent's);
	// an entry replaces one with the same key.
	ExtraEnv []string

	// ExtraFiles are further open files the child inherits: entry i becomes
	// the child's descriptor 3+i, as in os/exec. This is Python's
	// pass_fds, numbered from 3. Every other descriptor of the parent is
	// closed in the child.
	ExtraFiles []*os.File

	// NewSession starts the child in a new session (setsid), which also
	// makes it lead a new process group. Python: start_new_session.
	NewSession bool

	// Group chooses the child's process group; see Group.
	Group Group

	// Contain says how far a stop by a timeout or the context reaches
	// among the processes the child started; see Contain. The default,
	// ContainSubreaper, reaches those that left the process group too.
	// It applies to each command of a pipeline.
	Contain Contain
}

// Group says which process group a child joins. Stopping a process that
// leads its own group stops the whole group, so that a timeout leaves no
// grandchild running.
type Group int

const (
	// GroupAuto puts the child in a new process group when a timeout or a
	// context that can end may stop it, and leaves it in the parent's group
	// otherwise. A child in its own group is not in the terminal's
	// foreground group: the terminal's Ctrl-C does not reach it, and it
	// cannot read from the terminal (it would get SIGTTIN); use GroupParent
	// for such a child.
	GroupAuto Group = iota
	// GroupNew always puts the child in a new process group. Python:
	// process_group=0.
	GroupNew
	// GroupParent leaves the child in the parent's process group, as
	// Python and os/exec do. A stop then signals the child itself instead
	// of a group, and what Options.Contain reaches beyond it.
	GroupParent
)

// DefaultStopDrain is how long output pipes are read after a stopped
// process has exited, when WaitDelay is zero. Its group was killed with it,
// and so was what Options.Contain reaches, so this matters only for a
// descendant that escaped both and still holds a pipe.
const DefaultStopDrain = 200 * time.Millisecond

// shell is the program Shell runs.
const shell = "/bin/sh"

// settings is Options with its shorthands applied: Input and Capture
// turned into redirects.
type settings struct {
	Options
	argv []string
}

// resolve checks args and opts and applies the shorthands.
func resolve(args []string, opts *Options) (*settings, error) {
	s := &settings{}
	if opts != nil {
		s.Options = *opts
	}
	if len(args) == 0 {
		return nil, ErrNoCommand
	}
	s.argv = args
	if s.Shell {
		s.argv = append([]string{shell, "-c"}, args...)
	}
	if err := s.applyShorthands(); err != nil {
		return nil, err
	}
	return s, s.validate()
}

func (s *settings) applyShorthands() error {
	if s.Input != nil {
		if s.Stdin != nil && s.Stdin != Pipe {
			return badOptions("Input and Stdin both set")
		}
		s.Stdin = Pipe
	}
	if s.Capture {
		if s.Stdout != nil || s.Stderr != nil {
			return badOptions("Capture and Stdout or Stderr both set")
		}
		s.Stdout, s.Stderr = Pipe, Pipe
	}
	return nil
}

func (s *settings) validate() error {
	switch {
	case s.Timeout < 0 || s.Grace < 0 || s.WaitDelay < 0:
		return badOptions("negative Timeout, Grace or WaitDelay")
	case s.NewSession && s.Group == GroupParent:
		return badOptions("NewSession with GroupParent")
	case s.Group < GroupAuto || s.Group > GroupParent:
		return badOptions("unknown Group %d", s.Group)
	case s.Contain < ContainSubreaper || s.Contain > ContainCgroup:
		return badOptions("unknown Contain %d", s.Contain)
	}
	if err := checkRedirect("Stdin", s.Stdin, true); err != nil {
		return err
	}
	if err := checkRedirect("Stdout", s.Stdout, false); err != nil {
		return err
	}
	if s.Stderr == ToStdout {
		return nil
	}
	return checkRedirect("Stderr", s.Stderr, false)
}

// checkRedirect rejects redirects that make no sense for a stream.
func checkRedirect(name string, r Redirect, input bool) error {
	switch r := r.(type) {
	case nil:
		return nil
	case Stream:
		if r < Inherit || r > DevNull {
			return badOptions("%s: %v is not allowed here", name, r)
		}
	case fileRedirect:
		if r.f == nil {
			return badOptions("%s: File(nil)", name)
		}
	case readerRedirect:
		if !input || r.r == nil {
			return badOptions("%s: Reader is for Stdin and needs a reader", name)
		}
	case writerRedirect:
		if input || r.w == nil {
			return badOptions("%s: Writer is for Stdout or Stderr and needs a writer", name)
		}
	case popenRedirect:
		if !input || r.p == nil {
			return badOptions("%s: StdoutOf is for Stdin and needs a process", name)
		}
	}
	return nil
}

// mayStop reports whether something other than the caller can stop the
// process: a timeout or a context that can end.
func (s *settings) mayStop(ctx context.Context) bool {
	return s.Timeout > 0 || ctx.Done() != nil
}

// command builds the exec.Cmd, without its standard streams. The child
// joins process group pgid if it is not zero, or else leads a new group if
// ownGroup is set; c says what contains it.
func (s *settings) command(ownGroup bool, pgid int, c containment) *exec.Cmd {
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir = s.Dir
	if s.Env != nil || len(s.ExtraEnv) > 0 || c.mark != "" {
		env := s.Env
		if env == nil {
			env = os.Environ()
		}
		// exec.Cmd keeps the last of duplicate keys.
		cmd.Env = append(append([]string{}, env...), s.ExtraEnv...)
		if c.mark != "" {
			cmd.Env = markEnv(cmd.Env, c.mark)
		}
	}
	cmd.ExtraFiles = s.ExtraFiles
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: s.NewSession, Setpgid: ownGroup && !s.NewSession}
	if pgid != 0 {
		cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pgid = true, pgid
	}
	if c.cg != nil {
		c.cg.into(cmd.SysProcAttr)
	}
	return cmd
}

// ownGroup reports whether the child leads a process group of its own.
func (s *settings) ownGroup(ctx context.Context) bool {
	switch {
	case s.NewSession || s.Group == GroupNew:
		return true
	case s.Group == GroupParent:
		return false
	}
	return s.mayStop(ctx)
}
