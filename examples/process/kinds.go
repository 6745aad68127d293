package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 5, Topic: "process", Name: "process-subclass-terminate", Title: "a struct with a Run method as the target; terminate at once", Run: subclassTerminate})
	examples.Add(examples.Example{Seed: 6, Topic: "process", Name: "process-daemon", Title: "a daemonic child dies when its parent ends", Run: daemon})
	examples.Add(examples.Example{Seed: 7, Topic: "process", Name: "process-globals-not-shared", Title: "a child changes its own copy of a global", Run: globalsNotShared})
	examples.Add(examples.Example{Seed: 10, Topic: "process", Name: "os-fork", Title: "no fork in Go: the same report with mp.Process", Run: noFork})
}

// MyProcess is seed 05's Process subclass: Go has no inheritance, so the
// state is a struct and the target a registered function that calls its
// method.
type MyProcess struct {
	Name string
}

// Run is what the subclass's run() did.
func (p MyProcess) Run(ctx context.Context) error {
	fmt.Println("the child's name is>>>", p.Name)
	examples.Sleep(ctx, 2*time.Second)
	fmt.Println("child process finished")
	return nil
}

var myProcessRun = mp.Register("examples.process.MyProcess.Run", func(ctx context.Context, p MyProcess) (struct{}, error) {
	return struct{}{}, p.Run(ctx)
})

// subclassTerminate is seed 05: terminate right after start.
func subclassTerminate(ctx context.Context, w io.Writer) error {
	p := mp.Command(myProcessRun, MyProcess{Name: "child01"})
	p.Name = "child01"
	p.Stdout = w
	if err := p.Start(); err != nil {
		return err
	}
	fmt.Fprintln(w, "p.name:", p.Name, "\np.pid:", p.Pid())
	fmt.Fprintln(w, "p.is_alive:", p.Alive())
	p.Terminate()
	var ee *mp.ExitError
	if err := p.Wait(ctx); !errors.As(err, &ee) {
		return fmt.Errorf("terminated process: Wait = %v, want an ExitError", err)
	}
	code, _ := p.ExitCode()
	fmt.Fprintln(w, "p.exitcode:", code)
	fmt.Fprintln(w, "main process finished")
	return nil
}

// person is seed 06's daemon: it reports itself, then sleeps.
var person = mp.Register("examples.process.person", func(ctx context.Context, ready *mp.Event) (struct{}, error) {
	defer ready.Close()
	fmt.Printf("this person's ID is:%d\n", os.Getpid())
	fmt.Printf("this person's name is:%s\n", mp.Current().Name)
	ready.Set()                 // its lines are written: its parent may end now
	time.Sleep(3 * time.Second) // ignores ctx, like the seed: its parent's end must still stop it
	return struct{}{}, nil
})

// daemonMain plays the seed's whole program in a child of its own, so that
// its end is a real end of a process: it starts the daemon, waits until it
// runs (the seed's commented-out sleep), and returns, which ends it.
var daemonMain = mp.Register("examples.process.daemonMain", func(ctx context.Context, _ struct{}) (int, error) {
	ready, err := mp.NewEvent()
	if err != nil {
		return 0, err
	}
	defer ready.Close()
	p := mp.Command(person, ready)
	p.Name = "Myprocess-1"
	p.Daemon = true
	if err := p.Start(); err != nil {
		return 0, err
	}
	// The seed sleeps a moment; a fixed sleep is not enough on a loaded
	// machine, so wait until the daemon has run.
	if err := ready.Wait(ctx); err != nil {
		return 0, err
	}
	fmt.Println("main process finished!")
	return p.Pid(), nil
})

// daemon is seed 06.
func daemon(ctx context.Context, w io.Writer) error {
	p := mp.Command(daemonMain, struct{}{})
	p.Stdout = w
	if err := p.Run(ctx); err != nil {
		return err
	}
	daemonPid, err := mp.Result[int](p)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Second)
	for !gone(daemonPid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon %d outlived its parent by a second", daemonPid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Fprintf(w, "(daemon %d is gone: it died with its parent, before its 3 s sleep ended)\n", daemonPid)
	return nil
}

var dataList = []any{"+++"}

var addData = mp.Register("examples.process.addData", func(_ context.Context, _ struct{}) (struct{}, error) {
	dataList = append(dataList, 1, 2, 3)
	fmt.Println("child process", os.Getpid(), dataList)
	return struct{}{}, nil
})

// globalsNotShared is seed 07: the child appends to its own copy of the
// global (a child is a fresh run of the binary), the parent to its own.
func globalsNotShared(ctx context.Context, w io.Writer) error {
	saved := slices.Clone(dataList)
	defer func() { dataList = saved }()
	p := mp.Command(addData, struct{}{})
	p.Stdout = w
	if err := p.Run(ctx); err != nil {
		return err
	}
	dataList = append(dataList, "a", "b", "c")
	fmt.Fprintln(w, "main process", os.Getpid(), dataList)
	return nil
}

var forkChild = mp.Register("examples.process.forkChild", func(_ context.Context, _ struct{}) (struct{}, error) {
	fmt.Printf("I am child process (%d) and my parent is %d\n", os.Getpid(), mp.ParentPID())
	return struct{}{}, nil
})

// noFork is seed 10. os.fork() returns twice; a Go program cannot fork
// without exec, because its runtime is multi-threaded and a forked child
// keeps only the calling thread (golang/go#14767). mp starts a fresh run of
// the binary instead (or hands the work to a warm one), which runs the
// registered function: the same parent/child report, without fork.
func noFork(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "Process (%d) start...\n", os.Getpid())
	if err := mp.SetStartMethod(mp.Fork); err != nil {
		fmt.Fprintln(w, "asking for fork:", err)
	}
	p := mp.Command(forkChild, struct{}{})
	p.Stdout = w
	if err := p.Start(); err != nil {
		return err
	}
	fmt.Fprintf(w, "I (%d) just created a child process (%s).\n", os.Getpid(), strconv.Itoa(p.Pid()))
	return p.Wait(ctx)
}
