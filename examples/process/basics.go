package process

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 1, Topic: "process", Name: "process-info-pids", Title: "a child reports its name, parent pid and pid", Run: infoPids})
	examples.Add(examples.Example{Seed: 2, Topic: "process", Name: "process-run-proc", Title: "start one child and wait for it", Run: runProc})
	examples.Add(examples.Example{Seed: 3, Topic: "process", Name: "process-func-pids", Title: "parent and child pids while the child sleeps", Run: funcPids})
}

// info prints who is running: Python printed __name__, which tells the main
// module from a child's; in Go the process's name plays that part.
func info(w io.Writer, title string) {
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, "process name:", mp.Current().Name)
	fmt.Fprintln(w, "parent process:", mp.ParentPID())
	fmt.Fprintln(w, "process id:", os.Getpid())
}

// f runs in the child: its standard output is the parent's writer.
var f = mp.Register("examples.process.f", func(_ context.Context, name string) (struct{}, error) {
	info(os.Stdout, "function f")
	fmt.Println("hello", name)
	return struct{}{}, nil
})

// infoPids is seed 01: Process(target=f, args=('bob',)), start, join.
func infoPids(ctx context.Context, w io.Writer) error {
	info(w, "main line")
	p := mp.Command(f, "bob")
	p.Stdout = w
	return p.Run(ctx)
}

var runProcFn = mp.Register("examples.process.runProc", func(_ context.Context, name string) (struct{}, error) {
	fmt.Printf("Run child process %s (%d)...\n", name, os.Getpid())
	return struct{}{}, nil
})

// runProc is seed 02: Wait is the synchronization, the parent's last line
// comes after the child's.
func runProc(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "Parent process %d.\n", os.Getpid())
	p := mp.Command(runProcFn, "test")
	p.Stdout = w
	fmt.Fprintln(w, "Child process will start.")
	if err := p.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "Child process end.")
	return nil
}

var funcPidsFn = mp.Register("examples.process.funcPids", func(ctx context.Context, _ struct{}) (struct{}, error) {
	fmt.Println("child process is running")
	examples.Sleep(ctx, 1e9)
	fmt.Println("child process ID>>>", os.Getpid())
	fmt.Println("child's parent process ID>>>", mp.ParentPID())
	return struct{}{}, nil
})

// funcPids is seed 03: the parent goes on while the child sleeps.
func funcPids(ctx context.Context, w io.Writer) error {
	p := mp.Command(funcPidsFn, struct{}{})
	p.Stdout = w
	if err := p.Start(); err != nil {
		return err
	}
	fmt.Fprintln(w, "parent process ID>>>", os.Getpid())
	fmt.Fprintln(w, "parent's parent process ID>>>", mp.ParentPID())
	if err := p.Wait(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "main process finished!")
	return nil
}
