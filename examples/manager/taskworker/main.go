// Command taskworker is the task worker of Python's task_worker.py (seed
// program 69 of mp's tour; the seed programs are described in package
// examples) as a program of its own, to run on any machine that reaches the
// master of task_master.py (seed 68):
//
//	taskworker -addr 192.0.2.7:5000 -key abc
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/manager"
	mgr "github.com/mpgo/mp/manager"
)

func main() {
	mp.Main()
	addr := flag.String("addr", "127.0.0.1:5000", "the master's address, host:port")
	key := flag.String("key", "abc", "the key shared with the master")
	work := flag.Duration("work", time.Second, "how long one task takes")
	flag.Parse()
	if err := manager.Worker(context.Background(), os.Stdout, *addr, *key, *work); err != nil {
		fmt.Fprintln(os.Stderr, "taskworker:", err)
		if errors.Is(err, mgr.ErrAuthentication) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}
