package subprocess_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/subprocess"
)

func TestRunCapturesStdout(t *testing.T) {
	mptest.CheckLeaks(t)
	cp, err := subprocess.Run(bg, []string{"echo", "hello"}, &subprocess.Options{Stdout: subprocess.Pipe})
	if err != nil {
		t.Fatal(err)
	}
	if string(cp.Stdout) != "hello\n" || cp.ReturnCode != 0 || cp.Stderr != nil {
		t.Errorf("Run() = %+v, want stdout %q, code 0, stderr nil", cp, "hello\n")
	}
	if got := strings.Join(cp.Args, " "); got != "echo hello" {
		t.Errorf("Args = %q", got)
	}
}

func TestRunInput(t *testing.T) {
	mptest.CheckLeaks(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, far beyond a pipe's buffer
	cp, err := subprocess.Run(bg, []string{"cat"}, &subprocess.Options{Input: big, Stdout: subprocess.Pipe})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cp.Stdout, big) {
		t.Errorf("cat returned %d bytes, want the %d written", len(cp.Stdout), len(big))
	}
	cp, err = subprocess.Run(bg, []string{"wc", "-c"}, &subprocess.Options{Input: []byte{}, Stdout: subprocess.Pipe})
	if err != nil || strings.TrimSpace(string(cp.Stdout)) != "0" {
		t.Errorf("empty input: %q, %v", cp.Stdout, err)
	}
}

// TestRunStreams runs a child that writes to both streams with each
// combination of redirects (CPython: test_stdout_stderr_pipe and friends).
func TestRunStreams(t *testing.T) {
	mptest.CheckLeaks(t)
	script := []string{"printf out; printf err >&2"}
	var w bytes.Buffer
	tmp, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	tests := []struct {
		name             string
		opts             subprocess.Options
		stdout, stderr   string
		nilOut, nilErr   bool
		writer, fileData string
	}{
		{name: "capture", opts: subprocess.Options{Capture: true}, stdout: "out", stderr: "err"},
		{name: "stdout only", opts: subprocess.Options{Stdout: subprocess.Pipe, Stderr: subprocess.DevNull}, stdout: "out", nilErr: true},
		{name: "stderr only", opts: subprocess.Options{Stdout: subprocess.DevNull, Stderr: subprocess.Pipe}, nilOut: true, stderr: "err"},
		{name: "merged", opts: subprocess.Options{Stdout: subprocess.Pipe, Stderr: subprocess.ToStdout}, stdout: "outerr", nilErr: true},
		{name: "writer", opts: subprocess.Options{Stdout: subprocess.Writer(&w), Stderr: subprocess.ToStdout}, nilOut: true, nilErr: true, writer: "outerr"},
		{name: "file", opts: subprocess.Options{Stdout: subprocess.File(tmp), Stderr: subprocess.Pipe}, nilOut: true, stderr: "err", fileData: "out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.Reset()
			opts := tt.opts
			opts.Shell = true
			cp, err := subprocess.Run(bg, script, &opts)
			if err != nil {
				t.Fatal(err)
			}
			if string(cp.Stdout) != tt.stdout || (cp.Stdout == nil) != tt.nilOut {
				t.Errorf("Stdout = %q (nil %v), want %q", cp.Stdout, cp.Stdout == nil, tt.stdout)
			}
			if string(cp.Stderr) != tt.stderr || (cp.Stderr == nil) != tt.nilErr {
				t.Errorf("Stderr = %q (nil %v), want %q", cp.Stderr, cp.Stderr == nil, tt.stderr)
			}
			if w.String() != tt.writer {
				t.Errorf("writer got %q, want %q", w.String(), tt.writer)
			}
			if tt.fileData != "" {
				data, _ := os.ReadFile(tmp.Name())
				if string(data) != tt.fileData {
					t.Errorf("file holds %q, want %q", data, tt.fileData)
				}
			}
		})
	}
}

func TestRunReaderStdin(t *testing.T) {
	mptest.CheckLeaks(t)
	cp, err := subprocess.Run(bg, []string{"tr", "a-z", "A-Z"}, &subprocess.Options{
		Stdin: subprocess.Reader(strings.NewReader("a\nb\n")), Stdout: subprocess.Pipe,
	})
	if err != nil || string(cp.Stdout) != "A\nB\n" {
		t.Errorf("Run() = %q, %v; want %q", cp.Stdout, err, "A\nB\n")
	}
}

// TestRunCheck: CPython's test_check_output_nonzero and the message.
func TestRunCheck(t *testing.T) {
	mptest.CheckLeaks(t)
	cp, err := subprocess.Run(bg, []string{"echo partial; echo 'it broke' >&2; exit 3"}, &subprocess.Options{Shell: true, Capture: true, Check: true})
	var cpe *subprocess.CalledProcessError
	if !errors.As(err, &cpe) || !errors.Is(err, subprocess.ErrNonZeroExit) {
		t.Fatalf("err = %v, want a *CalledProcessError", err)
	}
	if cpe.ReturnCode != 3 || string(cpe.Stdout) != "partial\n" || string(cpe.Stderr) != "it broke\n" {
		t.Errorf("error = %+v", cpe)
	}
	if !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "it broke") {
		t.Errorf("message %q lacks the status or the stderr tail", err)
	}
	if cp == nil || cp.ReturnCode != 3 {
		t.Errorf("CompletedProcess = %+v, want code 3", cp)
	}
	if _, err := subprocess.Run(bg, []string{"true"}, &subprocess.Options{Check: true}); err != nil {
		t.Errorf("true with Check: %v", err)
	}
}

// TestRunTimeoutKeepsOutput: CPython's test_check_output_timeout; the output
// written before the timeout comes back in the error.
func TestRunTimeoutKeepsOutput(t *testing.T) {
	mptest.CheckLeaks(t)
	start := time.Now()
	cp, err := subprocess.Run(bg, []string{"echo BDFL; echo oops >&2; exec sleep 30"}, &subprocess.Options{
		Shell: true, Capture: true, Timeout: 300 * time.Millisecond,
	})
	var te *subprocess.TimeoutExpired
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TimeoutExpired", err)
	}
	if !errors.Is(err, subprocess.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not match ErrTimeout and DeadlineExceeded", err)
	}
	if string(te.Stdout) != "BDFL\n" || string(te.Stderr) != "oops\n" || te.Timeout != 300*time.Millisecond {
		t.Errorf("TimeoutExpired = %+v", te)
	}
	if cp.ReturnCode != -9 {
		t.Errorf("ReturnCode = %d, want -9", cp.ReturnCode)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v after a 300ms timeout", d)
	}
}

func TestRunContext(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	_, err := subprocess.Run(ctx, []string{"sleep", "30"}, nil)
	if !errors.Is(err, subprocess.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v", err)
	}
	ctx, cancel = context.WithCancel(bg)
	time.AfterFunc(200*time.Millisecond, cancel)
	cp, err := subprocess.Run(ctx, []string{"sleep", "30"}, nil)
	if !errors.Is(err, context.Canceled) || errors.Is(err, subprocess.ErrTimeout) {
		t.Errorf("cancel: err = %v, want context.Canceled and not ErrTimeout", err)
	}
	if cp == nil || cp.ReturnCode != -9 {
		t.Errorf("cancel: %+v, want code -9", cp)
	}
}

// TestRunShell: the seed's "ls | grep" and Python's list-with-shell rule.
func TestRunShell(t *testing.T) {
	mptest.CheckLeaks(t)
	dir := t.TempDir()
	for _, name := range []string{"fileA.txt", "fileB.txt", "xxx.log"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := subprocess.Run(bg, []string{"ls | grep xxx"}, &subprocess.Options{Shell: true, Dir: dir, Stdout: subprocess.Pipe})
	if err != nil || string(cp.Stdout) != "xxx.log\n" {
		t.Errorf("ls | grep xxx = %q, %v", cp.Stdout, err)
	}
	// With a list, only the first item is the script; the rest are $0, $1.
	cp, err = subprocess.Run(bg, []string{"echo $0-$1", "a", "b"}, &subprocess.Options{Shell: true, Stdout: subprocess.Pipe})
	if err != nil || string(cp.Stdout) != "a-b\n" {
		t.Errorf("echo $0-$1 a b = %q, %v", cp.Stdout, err)
	}
}

// TestRunDirEnv: CPython's test_cwd, test_env.
func TestRunDirEnv(t *testing.T) {
	mptest.CheckLeaks(t)
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	cp, err := subprocess.Run(bg, []string{"pwd"}, &subprocess.Options{Dir: dir, Stdout: subprocess.Pipe})
	if err != nil || strings.TrimSpace(string(cp.Stdout)) != dir {
		t.Errorf("pwd in %s = %q, %v", dir, cp.Stdout, err)
	}
	cp, err = subprocess.Run(bg, []string{"/usr/bin/env"}, &subprocess.Options{Env: []string{"FRUIT=orange"}, Stdout: subprocess.Pipe})
	if err != nil || string(cp.Stdout) != "FRUIT=orange\n" {
		t.Errorf("env replaced = %q, %v", cp.Stdout, err)
	}
	t.Setenv("MP_PARENT_VAR", "kept")
	cp, err = subprocess.Run(bg, []string{"echo $MP_PARENT_VAR $FRUIT"}, &subprocess.Options{
		Shell: true, ExtraEnv: []string{"FRUIT=apple"}, Stdout: subprocess.Pipe,
	})
	if err != nil || string(cp.Stdout) != "kept apple\n" {
		t.Errorf("env extended = %q, %v", cp.Stdout, err)
	}
}

// TestRunExtraFiles: CPython's test_pass_fds; descriptors not passed are
// closed in the child.
func TestRunExtraFiles(t *testing.T) {
	mptest.CheckLeaks(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	other, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	defer w2.Close()
	cp, err := subprocess.Run(bg, []string{"echo through-fd-3 >&3; echo x >&4 || echo no-fd-4"}, &subprocess.Options{
		Shell: true, ExtraFiles: []*os.File{w}, Stdout: subprocess.Pipe, Stderr: subprocess.DevNull,
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 64)
	n, _ := r.Read(got)
	if string(got[:n]) != "through-fd-3\n" {
		t.Errorf("fd 3 carried %q", got[:n])
	}
	if string(cp.Stdout) != "no-fd-4\n" {
		t.Errorf("stdout %q: fd 4 should not be open in the child", cp.Stdout)
	}
}

// TestRunGroups checks the process group and session the child gets.
func TestRunGroups(t *testing.T) {
	linuxOnly(t, "reading a shell's group and session in /proc/$$/stat")
	mptest.CheckLeaks(t)
	// Fields 5 and 6 of /proc/self/stat are the group and session ids.
	script := []string{`echo $$ $(cut -d' ' -f5,6 /proc/$$/stat)`}
	ids := func(opts subprocess.Options) (pid, pgid, sid string) {
		opts.Shell, opts.Stdout = true, subprocess.Pipe
		cp, err := subprocess.Run(bg, script, &opts)
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(cp.Stdout))
		if len(f) != 3 {
			t.Fatalf("output %q", cp.Stdout)
		}
		return f[0], f[1], f[2]
	}
	if pid, pgid, _ := ids(subprocess.Options{Group: subprocess.GroupNew}); pgid != pid {
		t.Errorf("GroupNew: group %s, want %s", pgid, pid)
	}
	if pid, pgid, sid := ids(subprocess.Options{NewSession: true}); pgid != pid || sid != pid {
		t.Errorf("NewSession: group %s session %s, want %s", pgid, sid, pid)
	}
	if pid, pgid, _ := ids(subprocess.Options{Timeout: time.Minute}); pgid != pid {
		t.Errorf("GroupAuto with a timeout: group %s, want its own (%s)", pgid, pid)
	}
	own := strconv.Itoa(syscall.Getpgrp())
	if _, pgid, _ := ids(subprocess.Options{Group: subprocess.GroupParent, Timeout: time.Minute}); pgid != own {
		t.Errorf("GroupParent: group %s, want the parent's %s", pgid, own)
	}
	if _, pgid, _ := ids(subprocess.Options{}); pgid != own {
		t.Errorf("GroupAuto without a timeout: group %s, want the parent's %s", pgid, own)
	}
}

func TestBadInput(t *testing.T) {
	mptest.CheckLeaks(t)
	var nilFile *os.File
	tests := []struct {
		name string
		args []string
		opts subprocess.Options
		want error
	}{
		{"no args", nil, subprocess.Options{}, subprocess.ErrNoCommand},
		{"input and stdin", []string{"cat"}, subprocess.Options{Input: []byte("x"), Stdin: subprocess.DevNull}, subprocess.ErrBadOptions},
		{"capture and stdout", []string{"true"}, subprocess.Options{Capture: true, Stdout: subprocess.Pipe}, subprocess.ErrBadOptions},
		{"ToStdout as stdout", []string{"true"}, subprocess.Options{Stdout: subprocess.ToStdout}, subprocess.ErrBadOptions},
		{"ToStdout as stdin", []string{"true"}, subprocess.Options{Stdin: subprocess.ToStdout}, subprocess.ErrBadOptions},
		{"nil file", []string{"true"}, subprocess.Options{Stdout: subprocess.File(nilFile)}, subprocess.ErrBadOptions},
		{"writer as stdin", []string{"true"}, subprocess.Options{Stdin: subprocess.Writer(os.Stdout)}, subprocess.ErrBadOptions},
		{"negative timeout", []string{"true"}, subprocess.Options{Timeout: -time.Second}, subprocess.ErrBadOptions},
		{"session in parent group", []string{"true"}, subprocess.Options{NewSession: true, Group: subprocess.GroupParent}, subprocess.ErrBadOptions},
		{"unknown containment", []string{"true"}, subprocess.Options{Contain: subprocess.ContainCgroup + 1}, subprocess.ErrBadOptions},
		{"not found", []string{"no-such-program-mp"}, subprocess.Options{}, exec.ErrNotFound},
		{"bad dir", []string{"true"}, subprocess.Options{Dir: "/no/such/dir"}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := subprocess.Run(bg, tt.args, &tt.opts)
			if !errors.Is(err, tt.want) || cp != nil {
				t.Errorf("Run() = %v, %v; want nil, %v", cp, err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "subprocess: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
}

func TestCallFamily(t *testing.T) {
	mptest.CheckLeaks(t)
	quiet := &subprocess.Options{Stderr: subprocess.DevNull}
	if code, err := subprocess.Call(bg, []string{"mv", "abc"}, quiet); code != 1 || err != nil {
		t.Errorf("Call(mv abc) = %d, %v; want 1, nil", code, err)
	}
	if code, err := subprocess.Call(bg, []string{"no-such-program-mp"}, nil); code != -1 || !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Call(missing) = %d, %v", code, err)
	}
	if err := subprocess.CheckCall(bg, []string{"true"}, nil); err != nil {
		t.Errorf("CheckCall(true) = %v", err)
	}
	if err := subprocess.CheckCall(bg, []string{"false"}, nil); !errors.Is(err, subprocess.ErrNonZeroExit) {
		t.Errorf("CheckCall(false) = %v", err)
	}
	out, err := subprocess.CheckOutput(bg, []string{"ls non_existent_file; exit 0"}, &subprocess.Options{Shell: true, Stderr: subprocess.ToStdout})
	if err != nil || !strings.Contains(string(out), "non_existent_file") {
		t.Errorf("CheckOutput = %q, %v", out, err)
	}
	out, err = subprocess.CheckOutput(bg, []string{"echo so far; exit 2"}, &subprocess.Options{Shell: true})
	if string(out) != "so far\n" || !errors.Is(err, subprocess.ErrNonZeroExit) {
		t.Errorf("CheckOutput(exit 2) = %q, %v", out, err)
	}
	if _, err := subprocess.CheckOutput(bg, []string{"true"}, &subprocess.Options{Stdout: subprocess.DevNull}); !errors.Is(err, subprocess.ErrBadOptions) {
		t.Errorf("CheckOutput with Stdout = %v", err)
	}
	code, text, err := subprocess.GetStatusOutput(bg, "echo one; echo two >&2; exit 4")
	if code != 4 || text != "one\ntwo" || err != nil {
		t.Errorf("GetStatusOutput = %d, %q, %v", code, text, err)
	}
	if text, err := subprocess.GetOutput(bg, "printf 'a\\n\\n'"); text != "a\n" || err != nil {
		t.Errorf("GetOutput = %q, %v; want one newline stripped", text, err)
	}
}

// TestStartBadDir: a working directory that cannot be entered is named in
// the error, which keeps the errno, instead of the program (which the
// kernel's report of the failed exec names).
func TestStartBadDir(t *testing.T) {
	mptest.CheckLeaks(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name, dir string
		is        error
		msg       string
	}{
		{"missing", missing, fs.ErrNotExist, "chdir " + missing + ": no such file or directory"},
		{"file", file, syscall.ENOTDIR, "chdir " + file + ": not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := &subprocess.Options{Dir: tc.dir}
			_, err := subprocess.Run(bg, []string{"true"}, opts)
			if !errors.Is(err, tc.is) || !strings.HasSuffix(err.Error(), tc.msg) || strings.Contains(err.Error(), "fork/exec") {
				t.Errorf("Run() = %v; want it to end in %q and match %v", err, tc.msg, tc.is)
			}
			if _, err := subprocess.Start(bg, []string{"true"}, opts); !errors.Is(err, tc.is) {
				t.Errorf("Start() = %v, want %v", err, tc.is)
			}
			if _, err := subprocess.RunPipeline(bg, [][]string{{"true"}, {"true"}}, opts); !errors.Is(err, tc.is) {
				t.Errorf("RunPipeline() = %v, want %v", err, tc.is)
			}
		})
	}
	// A good Dir leaves the errors of a missing program as they were.
	_, err := subprocess.Run(bg, []string{"no-such-program-mp"}, &subprocess.Options{Dir: t.TempDir()})
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing program: %v", err)
	}
}
