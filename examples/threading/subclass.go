package threading

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 80, Topic: "threading", Name: "thread-subclass", Title: "named, joinable in-process workers: mp.Process with the Goroutine start method", Run: subclass})
}

// myThreading is the body of seed 80's Thread subclass. Go has no
// inheritance: the body is a function, and what Python kept on self comes as
// the argument.
var myThreading = mp.Register("examples.threading.mythreading", func(ctx context.Context, name string) (string, error) {
	if err := examples.Sleep(ctx, 5*tick); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s ran in process %d", name, os.Getpid()), nil
})

// subclass is seed 80. Where code wants a Thread-shaped object — a name,
// Start, Alive, Wait — in this process, mp.Process with the Goroutine start
// method gives the same API as a child process (Python's
// multiprocessing.dummy). The seed renamed each thread after starting it, a
// race Go would flag; here the name is set before Start and never changes.
func subclass(ctx context.Context, w io.Writer) error {
	var procs []*mp.Process
	defer func() { // on every path: stop what still runs, then join it
		for _, p := range procs {
			p.Terminate()
			<-p.Done()
			p.Close()
		}
	}()
	for i := range 10 {
		p := mp.Command(myThreading, fmt.Sprintf("hehe-%d", i))
		p.Name = fmt.Sprintf("hehe-%d", i)
		p.StartMethod = mp.Goroutine
		if err := p.Start(); err != nil {
			return err
		}
		procs = append(procs, p)
		fmt.Fprintln(w, p.Name, "alive:", p.Alive())
	}
	for _, p := range procs {
		if err := p.Wait(ctx); err != nil {
			return err
		}
		msg, err := mp.Result[string](p)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, msg)
	}
	fmt.Fprintln(w, "-----end")
	return nil
}
