package subprocess

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/subprocess"
)

func init() {
	examples.Add(examples.Example{Seed: 72, Topic: "subprocess", Name: "subprocess-popen-io", Title: "read a child's stdout line by line; write commands to a child's stdin", Run: popenIO})
	examples.Add(examples.Example{Seed: 73, Topic: "subprocess", Name: "subprocess-popen-control", Title: "Poll, Wait with a timeout, signals, Communicate", Run: popenControl})
}

// popenIO is seed 72: Popen(stdout=PIPE) read line by line, then
// Popen(stdin=PIPE) fed commands. The seed drives the editor ex, which not
// every machine has; this port feeds the same kind of script to sh, which
// writes test.txt the same way.
func popenIO(ctx context.Context, w io.Writer) error {
	dir, err := seedDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ls, err := subprocess.Start(ctx, []string{"ls"}, &subprocess.Options{Dir: dir, Stdout: subprocess.Pipe})
	if err != nil {
		return err
	}
	lines := bufio.NewReader(ls.Stdout)
	for {
		line, err := lines.ReadBytes('\n')
		if len(line) > 0 {
			fmt.Fprintf(w, "%q\n", line) // bytes, as Python prints b'fileA.txt\n'
		}
		if err != nil {
			break
		}
	}
	if _, err := ls.Wait(ctx); err != nil {
		return err
	}
	examples.Note(w, "the seed writes test.txt with the editor ex (from vim), which not every machine has; sh stands in for it, so the byte counts are of sh's commands, not the seed's 19 and 3")
	return writeScript(ctx, w, dir)
}

// writeScript writes commands into an interactive child's stdin. Writes go
// straight into the pipe: there is no buffer to flush.
func writeScript(ctx context.Context, w io.Writer, dir string) error {
	sh, err := subprocess.Start(ctx, []string{"sh"}, &subprocess.Options{Dir: dir, Stdin: subprocess.Pipe})
	if err != nil {
		return err
	}
	n, err := io.WriteString(sh.Stdin, "echo 'this is a test' > test.txt\n")
	fmt.Fprintln(w, n)
	if err == nil {
		n, err = io.WriteString(sh.Stdin, "exit\n")
		fmt.Fprintln(w, n)
	}
	sh.Stdin.Close() // end of input, as Python's stdin.close()
	if _, werr := sh.Wait(ctx); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(dir, "test.txt"))
	fmt.Fprintf(w, "test.txt: %s", data)
	return err
}

// popenControl is seed 73: poll, wait(timeout), terminate, kill,
// send_signal and communicate.
func popenControl(ctx context.Context, w io.Writer) error {
	p, err := subprocess.Start(ctx, []string{"sleep", "30"}, nil)
	if err != nil {
		return err
	}
	_, exited := p.Poll()
	fmt.Fprintln(w, "poll: exited", exited) // Python: None
	p.Terminate()
	if err := report(ctx, w, "terminate -> wait:", p); err != nil {
		return err
	}
	for _, step := range []struct {
		label string
		send  func(p *subprocess.Popen) error
	}{
		{"kill -> wait:", (*subprocess.Popen).Kill},
		{"send_signal(SIGINT) -> wait:", func(p *subprocess.Popen) error { return p.SendSignal(syscall.SIGINT) }},
	} {
		if p, err = subprocess.Start(ctx, []string{"sleep", "30"}, nil); err != nil {
			return err
		}
		step.send(p)
		if err := report(ctx, w, step.label, p); err != nil {
			return err
		}
	}
	if err := waitTimeout(ctx, w); err != nil {
		return err
	}
	return upper(ctx, w)
}

// report waits (at most 5 s) for p and prints its return code.
func report(ctx context.Context, w io.Writer, label string, p *subprocess.Popen) error {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	code, err := p.Wait(wctx)
	if errors.Is(err, subprocess.ErrTimeout) {
		// SIGINT does nothing to a child that inherited it ignored.
		p.Kill()
		code, err = p.Wait(ctx)
		label += " (still running after 5 s; killed)"
	}
	fmt.Fprintln(w, label, code)
	return err
}

// waitTimeout shows Wait giving up after half a second without killing.
func waitTimeout(ctx context.Context, w io.Writer) error {
	p, err := subprocess.Start(ctx, []string{"sleep", "30"}, nil)
	if err != nil {
		return err
	}
	timeout := 500 * time.Millisecond
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = p.Wait(wctx)
	if errors.Is(err, subprocess.ErrTimeout) {
		_, exited := p.Poll()
		fmt.Fprintln(w, "TimeoutExpired after", timeout.Seconds(), "s; still running:", !exited)
	}
	p.Kill()
	_, werr := p.Wait(ctx)
	return werr
}

// upper feeds two lines to a child that upper-cases its stdin until end of
// file; Communicate closes stdin after the input, so the child ends.
func upper(ctx context.Context, w io.Writer) error {
	p, err := subprocess.Start(ctx, []string{"tr", "a-z", "A-Z"}, &subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe})
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, _, err := p.Communicate(cctx, []byte("a\nb\n"))
	if err != nil {
		p.Kill()
		p.Communicate(ctx, nil)
		return err
	}
	code, _ := p.Poll()
	fmt.Fprintf(w, "communicate: %q returncode: %d\n", out, code)
	return nil
}
