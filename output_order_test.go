package mp_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

var (
	// printThenReturn prints a line and returns its argument.
	printThenReturn = mp.Register("test.printThenReturn", func(_ context.Context, i int) (int, error) {
		fmt.Printf("task %d printed\n", i)
		return i, nil
	})
	// printThenSend prints lines, sending a message after each.
	printThenSend = mp.Register("test.printThenSend", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
		defer c.Close()
		for i := range 50 {
			fmt.Printf("message %d follows\n", i)
			if err := c.Send(ctx, i); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
)

// A pool whose workers print to a writer delivers a task's result only once
// what the task printed is in the writer.
func TestPoolOutputBeforeResult(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, m := range []mp.StartMethod{mp.Spawn, mp.Forkserver} {
		t.Run(string(m), func(t *testing.T) {
			out := &syncWriter{w: new(bytes.Buffer)}
			p := newPool(t, mp.PoolOptions{Processes: 2, StartMethod: m, Stdout: out})
			ctx := context.Background()
			for i := range 100 {
				if _, err := mp.Apply(ctx, p, printThenReturn, i); err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("task %d printed\n", i); !strings.Contains(out.String(), want) {
					t.Fatalf("result of task %d came before its output", i)
				}
			}
			p.Close()
			if err := p.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// SyncOutput after a message shows what the child printed before sending it.
func TestProcessSyncOutput(t *testing.T) {
	mptest.CheckLeaks(t)
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := &syncWriter{w: new(bytes.Buffer)}
	p := mp.Command(printThenSend, w)
	p.Stdout = out
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	w.Close()
	ctx := context.Background()
	for i := range 50 {
		var got int
		if err := r.Recv(ctx, &got); err != nil || got != i {
			t.Fatalf("Recv = %d, %v; want %d", got, err, i)
		}
		p.SyncOutput()
		if want := fmt.Sprintf("message %d follows\n", i); !strings.Contains(out.String(), want) {
			t.Fatalf("message %d arrived, its line not yet after SyncOutput", i)
		}
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
}

// bigWrite writes n lines of 1 KiB to its standard output and says whether
// every write succeeded.
var bigWrite = mp.Register("test.bigWrite", func(_ context.Context, n int) (string, error) {
	line := strings.Repeat("y", 1023) + "\n"
	for range n {
		if _, err := os.Stdout.WriteString(line); err != nil {
			return "write: " + err.Error(), nil
		}
	}
	return "ok", nil
})

// slowWriter takes a millisecond over every write.
type slowWriter struct {
	mu sync.Mutex
	n  int
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += len(p)
	return len(p), nil
}

// A child's output to a writer slower than the child is delivered whole,
// with either start method: a full pipe makes the child wait, not drop.
func TestOutputToASlowWriter(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, m := range []mp.StartMethod{mp.Spawn, mp.Forkserver} {
		t.Run(string(m), func(t *testing.T) {
			w := &slowWriter{}
			p := mp.Command(bigWrite, 300)
			p.StartMethod, p.Stdout = m, w
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			got, err := mp.Result[string](p)
			if err != nil || got != "ok" {
				t.Fatalf("child: %q, %v", got, err)
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.n != 300*1024 {
				t.Fatalf("the writer got %d of %d bytes", w.n, 300*1024)
			}
		})
	}
}
