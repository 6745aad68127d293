package subprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/subprocess"
)

func init() {
	examples.Add(examples.Example{Seed: 70, Topic: "subprocess", Name: "subprocess-run", Title: "Run: the shell, captured output, Check", Run: run})
	examples.Add(examples.Example{Seed: 71, Topic: "subprocess", Name: "subprocess-call", Title: "Call, CheckCall, CheckOutput with stderr merged into stdout", Run: call})
	examples.Add(examples.Example{Seed: 77, Topic: "subprocess", Name: "subprocess-call-exit-code", Title: "run a command whose output goes straight out; get its exit code", Run: callExitCode})
}

// seedDir makes a temporary directory holding the files of seed 001's
// listing, so that the examples that run ls show the same names everywhere.
func seedDir() (string, error) {
	dir, err := os.MkdirTemp("", "mp-subprocess-")
	if err != nil {
		return "", err
	}
	for _, name := range []string{"fileA.txt", "fileB.txt", "ls.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// run is seed 70: subprocess.run with shell=True, stdout=PIPE and
// check=True.
func run(ctx context.Context, w io.Writer) error {
	dir, err := seedDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := &subprocess.Options{Shell: true, Dir: dir, Stdout: subprocess.Writer(w)}

	// The seed's list form: with Shell, only the first item is the script
	// ("ls"); "|", "grep" and "xxx" become $0, $1, $2. So it lists every file.
	if _, err := subprocess.Run(ctx, strings.Split("ls | grep xxx", " "), out); err != nil {
		return err
	}
	// The string form runs the pipeline; grep finds nothing and returns 1.
	cp, err := subprocess.Run(ctx, []string{"ls | grep xxx"}, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "returncode of the string form:", cp.ReturnCode)

	cp, err = subprocess.Run(ctx, []string{"uname", "-r"}, &subprocess.Options{Stdout: subprocess.Pipe})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, cp.ReturnCode)
	fmt.Fprintf(w, "%q\n", cp.Stdout)

	_, err = subprocess.Run(ctx, []string{"false"}, &subprocess.Options{Check: true, Stdout: subprocess.Pipe})
	var cpe *subprocess.CalledProcessError
	if !errors.As(err, &cpe) {
		return fmt.Errorf("false with Check: %v, want a CalledProcessError", err)
	}
	fmt.Fprintf(w, "CalledProcessError returncode: %d output: %q\n", cpe.ReturnCode, cpe.Stdout)
	return nil
}

// call is seed 71: the older functions call, check_call and check_output.
func call(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "mp-subprocess-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// mv with one operand fails with a usage message on stderr and status 1.
	code, err := subprocess.Call(ctx, []string{"mv abc"}, &subprocess.Options{
		Shell: true, Dir: dir, Stdout: subprocess.Writer(w), Stderr: subprocess.Writer(w),
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "call returned:", code)

	// Python's check_call returns 0 once the command succeeded; CheckCall
	// returns only an error, nil then.
	err = subprocess.CheckCall(ctx, []string{"true"}, nil)
	fmt.Fprintln(w, "check_call returned:", err)
	examples.Note(w, "Python's check_call returns 0 (the return code) when the command succeeds; CheckCall returns only an error, nil here")

	// "; exit 0" keeps the shell's status 0, so no error despite ls failing.
	out, err := subprocess.CheckOutput(ctx, []string{"ls non_existent_file; exit 0"}, &subprocess.Options{
		Shell: true, Dir: dir, Stderr: subprocess.ToStdout,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%q\n", out)
	return nil
}

// callExitCode is seed 77. The seed runs `nslookup www.baidu.org`, which
// needs the nslookup program and a network; this port runs `uname -s`,
// which every machine has, in the same way: its output goes straight to
// the example's output, and only the exit code comes back.
func callExitCode(ctx context.Context, w io.Writer) error {
	examples.Note(w, "the seed runs `nslookup www.baidu.org`, which needs nslookup and a network; uname -s stands in for it")
	fmt.Fprintln(w, "$ uname -s")
	code, err := subprocess.Call(ctx, []string{"uname", "-s"}, &subprocess.Options{Stdout: subprocess.Writer(w)})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Exit code: ", code)
	return nil
}
