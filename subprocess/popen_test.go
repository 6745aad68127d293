package subprocess_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/subprocess"
)

// start starts args or fails the test.
func start(t *testing.T, ctx context.Context, args []string, opts *subprocess.Options) *subprocess.Popen {
	t.Helper()
	p, err := subprocess.Start(ctx, args, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPollWait: CPython's test_poll, test_wait_timeout: a wait that times
// out leaves the child running.
func TestPollWait(t *testing.T) {
	mptest.CheckLeaks(t)
	p := start(t, bg, []string{"sleep", "30"}, nil)
	if code, exited := p.Poll(); exited {
		t.Fatalf("Poll() = %d, true right after start", code)
	}
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	_, err := p.Wait(ctx)
	if !errors.Is(err, subprocess.ErrTimeout) {
		t.Errorf("Wait() = %v, want a timeout", err)
	}
	if _, exited := p.Poll(); exited {
		t.Error("Wait's timeout killed the child")
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	code, err := p.Wait(bg)
	if code != -9 || err != nil {
		t.Errorf("Wait() after Kill = %d, %v; want -9, nil", code, err)
	}
	if code, exited := p.Poll(); code != -9 || !exited {
		t.Errorf("Poll() after Wait = %d, %v", code, exited)
	}
	if err := p.Kill(); err != nil {
		t.Errorf("Kill after exit = %v, want nil (Python: no-op)", err)
	}
	if code, err := p.Wait(bg); code != -9 || err != nil {
		t.Errorf("second Wait() = %d, %v", code, err)
	}
}

// TestSignals: CPython's test_send_signal, test_kill, test_terminate:
// negative return codes.
func TestSignals(t *testing.T) {
	mptest.CheckLeaks(t)
	tests := []struct {
		name string
		send func(p *subprocess.Popen) error
		want int
	}{
		{"terminate", (*subprocess.Popen).Terminate, -15},
		{"kill", (*subprocess.Popen).Kill, -9},
		{"SIGUSR1", func(p *subprocess.Popen) error { return p.SendSignal(syscall.SIGUSR1) }, -10},
		{"SIGINT", func(p *subprocess.Popen) error { return p.SendSignal(syscall.SIGINT) }, -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == -2 && ignored(syscall.SIGINT) {
				t.Skip("SIGINT is ignored here, and so in the children")
			}
			p := start(t, bg, []string{"sleep", "30"}, nil)
			if err := tt.send(p); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(bg, 10*time.Second)
			defer cancel()
			code, err := p.Wait(ctx)
			if err != nil {
				p.Kill()
				p.Wait(bg)
				t.Fatal(err)
			}
			if code != tt.want {
				t.Errorf("return code %d, want %d", code, tt.want)
			}
		})
	}
}

// TestCommunicateRetry: Python's documented pattern, and CPython's
// test_communicate_timeout: partial output in the error, then the rest
// after a kill.
func TestCommunicateRetry(t *testing.T) {
	mptest.CheckLeaks(t)
	p := start(t, bg, []string{"sh", "-c", "echo early; echo warn >&2; read x; echo got $x; exec sleep 30"},
		&subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe, Stderr: subprocess.Pipe})
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	out, errOut, err := p.Communicate(ctx, []byte("input\n"))
	var te *subprocess.TimeoutExpired
	if !errors.As(err, &te) || !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("Communicate() error = %v, want a timeout", err)
	}
	if string(out) != "early\ngot input\n" || string(errOut) != "warn\n" || !bytes.Equal(te.Stdout, out) {
		t.Errorf("partial output %q / %q, error's %q", out, errOut, te.Stdout)
	}
	if _, exited := p.Poll(); exited {
		t.Error("Communicate's timeout killed the child")
	}
	if _, _, err := p.Communicate(bg, []byte("more")); !errors.Is(err, subprocess.ErrInputAfterStart) {
		t.Errorf("second input: %v, want ErrInputAfterStart", err)
	}
	p.Kill()
	out, errOut, err = p.Communicate(bg, nil)
	if err != nil || string(out) != "early\ngot input\n" || string(errOut) != "warn\n" {
		t.Errorf("after Kill: %q, %q, %v", out, errOut, err)
	}
	if code, _ := p.Poll(); code != -9 {
		t.Errorf("return code %d, want -9", code)
	}
}

// TestCommunicateNoDeadlock fills both output pipes while stdin is still
// being written (CPython: test_communicate_pipe_buf, large output).
func TestCommunicateNoDeadlock(t *testing.T) {
	mptest.CheckLeaks(t)
	in := bytes.Repeat([]byte("x"), 3<<20)
	p := start(t, bg, []string{"sh", "-c", "head -c 2000000 /dev/zero >&2; cat"},
		&subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe, Stderr: subprocess.Pipe})
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	out, errOut, err := p.Communicate(ctx, in)
	if err != nil {
		p.Kill()
		p.Wait(bg)
		t.Fatal(err)
	}
	if len(out) != len(in) || len(errOut) != 2000000 {
		t.Errorf("got %d and %d bytes, want %d and 2000000", len(out), len(errOut), len(in))
	}
}

func TestCommunicateErrors(t *testing.T) {
	mptest.CheckLeaks(t)
	p := start(t, bg, []string{"true"}, &subprocess.Options{Stdout: subprocess.DevNull})
	if _, _, err := p.Communicate(bg, []byte("x")); !errors.Is(err, subprocess.ErrNoStdinPipe) {
		t.Errorf("input without a stdin pipe: %v", err)
	}
	out, errOut, err := p.Communicate(bg, nil)
	if out != nil || errOut != nil || err != nil {
		t.Errorf("Communicate() = %q, %q, %v; want nil, nil, nil", out, errOut, err)
	}
}

// TestLineProtocol is the seeds' request/reply loop: write one line, read
// one answer, while the child keeps running (seeds 75 and 76).
func TestLineProtocol(t *testing.T) {
	mptest.CheckLeaks(t)
	p := start(t, bg, []string{"sh", "-c", `while read path; do echo "ok $path"; done`},
		&subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe})
	replies := bufio.NewReader(p.Stdout)
	for i := range 50 {
		if _, exited := p.Poll(); exited {
			t.Fatal("the child exited early")
		}
		path := fmt.Sprintf("/images/%d.jpg", i)
		if _, err := io.WriteString(p.Stdin, path+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := replies.ReadString('\n')
		if err != nil || line != "ok "+path+"\n" {
			t.Fatalf("reply %d = %q, %v", i, line, err)
		}
	}
	p.Stdin.Close()
	if code, err := p.Wait(bg); code != 0 || err != nil {
		t.Errorf("Wait() = %d, %v", code, err)
	}
	if _, err := p.Stdout.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Stdout after Wait: %v, want it closed", err)
	}
}

// TestStdoutOf chains two children through a pipe, as the seed's
// ls -l | wc.
func TestStdoutOf(t *testing.T) {
	mptest.CheckLeaks(t)
	p1 := start(t, bg, []string{"printf", "a b\nc\n"}, &subprocess.Options{Stdout: subprocess.Pipe})
	p2 := start(t, bg, []string{"wc"}, &subprocess.Options{Stdin: subprocess.StdoutOf(p1), Stdout: subprocess.Pipe, Stderr: subprocess.ToStdout})
	if p1.Stdout != nil {
		t.Error("p1.Stdout still set after the hand-over")
	}
	if _, err := subprocess.Start(bg, []string{"cat"}, &subprocess.Options{Stdin: subprocess.StdoutOf(p1)}); !errors.Is(err, subprocess.ErrPipeTaken) {
		t.Errorf("second StdoutOf: %v, want ErrPipeTaken", err)
	}
	out, _, err := p2.Communicate(bg, nil)
	if err != nil || strings.Join(strings.Fields(string(out)), " ") != "2 3 6" {
		t.Errorf("wc = %q, %v; want 2 3 6", out, err)
	}
	if code, err := p1.Wait(bg); code != 0 || err != nil {
		t.Errorf("p1.Wait() = %d, %v", code, err)
	}
}

// TestReapedWithoutWait: a child nobody waits for does not stay a zombie.
func TestReapedWithoutWait(t *testing.T) {
	mptest.CheckLeaks(t)
	p := start(t, bg, []string{"true"}, nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, exited := p.Poll(); exited {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d was not reaped", p.Pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, _ := p.Poll(); code != 0 {
		t.Errorf("Poll() = %d, want 0", code)
	}
	// Poll reports an exit once the process is reaped: not even a zombie
	// is left.
	if _, err := procinfo.Read(p.Pid); !errors.Is(err, procinfo.ErrNoProcess) {
		t.Errorf("process %d left behind after Poll reported its exit", p.Pid)
	}
	if err := p.Terminate(); err != nil {
		t.Errorf("Terminate after exit: %v", err)
	}
}

// TestCommunicateAfterWait: as in Python, Communicate after Wait returns
// the output the child left in its pipes (every time it is called), drops
// the input of a child that has exited, and reports Wait's outcome.
func TestCommunicateAfterWait(t *testing.T) {
	mptest.CheckLeaks(t)
	piped := &subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe, Stderr: subprocess.Pipe}
	p := start(t, bg, []string{"sh", "-c", "echo out; echo err >&2"}, piped)
	if code, err := p.Wait(bg); code != 0 || err != nil {
		t.Fatalf("Wait() = %d, %v", code, err)
	}
	for range 2 {
		out, errOut, err := p.Communicate(bg, bytes.Repeat([]byte("x"), 100000))
		if string(out) != "out\n" || string(errOut) != "err\n" || err != nil {
			t.Errorf("Communicate() after Wait = %q, %q, %v; want %q, %q, nil", out, errOut, err, "out\n", "err\n")
		}
	}

	// What the caller wrote to Stdin itself reached the child.
	p = start(t, bg, []string{"cat"}, &subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe})
	io.WriteString(p.Stdin, "by hand\n")
	p.Stdin.Close()
	p.Wait(bg)
	if out, errOut, err := p.Communicate(bg, nil); string(out) != "by hand\n" || errOut != nil || err != nil {
		t.Errorf("Communicate() after writing Stdin and Wait = %q, %q, %v", out, errOut, err)
	}

	// A stop by the timeout is still reported, with the output.
	p = start(t, bg, []string{"sh", "-c", "echo partial; exec sleep 30"}, &subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe, Timeout: 100 * time.Millisecond})
	if code, err := p.Wait(bg); code != -9 || !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("Wait() = %d, %v; want -9 and a timeout", code, err)
	}
	out, _, err := p.Communicate(bg, []byte("late"))
	if string(out) != "partial\n" || !errors.Is(err, subprocess.ErrTimeout) {
		t.Errorf("Communicate() after a stop = %q, %v; want %q and a timeout", out, err, "partial\n")
	}

	// Input for a stdin that never was a pipe is still an error.
	p = start(t, bg, []string{"true"}, &subprocess.Options{Stdout: subprocess.Pipe})
	p.Wait(bg)
	if _, _, err := p.Communicate(bg, []byte("x")); !errors.Is(err, subprocess.ErrNoStdinPipe) {
		t.Errorf("input without a stdin pipe, after Wait: %v", err)
	}
	if out, errOut, err := p.Communicate(bg, nil); out == nil || len(out) != 0 || errOut != nil || err != nil {
		t.Errorf("Communicate(nil) after Wait = %q, %q, %v; want empty, nil, nil", out, errOut, err)
	}
}
