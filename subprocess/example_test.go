package subprocess_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mpgo/mp/subprocess"
)

// Run is subprocess.run: capture the output, check the status, bound the
// time.
func ExampleRun() {
	ctx := context.Background()
	cp, err := subprocess.Run(ctx, []string{"echo", "hello"}, &subprocess.Options{Stdout: subprocess.Pipe})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("returncode %d, stdout %q\n", cp.ReturnCode, cp.Stdout)

	// check=True
	_, err = subprocess.Run(ctx, []string{"exit 3"}, &subprocess.Options{Shell: true, Check: true})
	var cpe *subprocess.CalledProcessError
	if errors.As(err, &cpe) {
		fmt.Println(cpe.ReturnCode, err)
	}

	// timeout=0.1: the process is killed, and Run returns once it is gone.
	_, err = subprocess.Run(ctx, []string{"sleep", "10"}, &subprocess.Options{Timeout: 100 * time.Millisecond})
	fmt.Println(errors.Is(err, subprocess.ErrTimeout), err)
	// Output:
	// returncode 0, stdout "hello\n"
	// 3 subprocess: command [/bin/sh -c "exit 3"] returned non-zero exit status 3
	// true subprocess: command [sleep 10] timed out after 100ms
}

// RunPipeline is the shell's cmd1 | cmd2 | cmd3 with pipefail: every
// command's status is kept, and a timeout stops them all.
func ExampleRunPipeline() {
	ctx := context.Background()
	res, err := subprocess.RunPipeline(ctx, [][]string{{"tr", "a-z", "A-Z"}, {"sort"}, {"uniq", "-c"}},
		&subprocess.Options{Input: []byte("b\na\nb\n"), Stdout: subprocess.Pipe})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Stdout()))
	fmt.Println("returncode", res.ReturnCode())

	res, err = subprocess.RunPipeline(ctx, [][]string{{"sleep", "10"}, {"cat"}, {"cat"}},
		&subprocess.Options{Timeout: 100 * time.Millisecond})
	fmt.Println(err)
	for _, c := range res.Commands {
		fmt.Println(c.Args, c.ReturnCode)
	}
	// Output:
	//       1 A
	//       2 B
	// returncode 0
	// subprocess: pipeline [sleep 10] | [cat] | [cat] timed out after 100ms
	// [sleep 10] -9
	// [cat] -9
	// [cat] -9
}

// Start is subprocess.Popen; Communicate writes the input, reads the
// output without deadlocking on full pipes, and waits.
func ExampleStart() {
	ctx := context.Background()
	p, err := subprocess.Start(ctx, []string{"tr", "a-z", "A-Z"},
		&subprocess.Options{Stdin: subprocess.Pipe, Stdout: subprocess.Pipe})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _, err := p.Communicate(ctx, []byte("hello from go\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	code, exited := p.Poll()
	fmt.Printf("%q returncode %d exited %v\n", out, code, exited)
	// Output:
	// "HELLO FROM GO\n" returncode 0 exited true
}
