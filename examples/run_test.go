package examples_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/subprocess"
)

// relay prints each number it receives and sends the next one back, until
// it gets -1.
var relay = mp.Register("examples.test.relay", func(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	for {
		var n int
		if err := c.Recv(ctx, &n); err != nil {
			return struct{}{}, err
		}
		fmt.Printf("child got %d\n", n)
		if n < 0 {
			return struct{}{}, nil
		}
		if err := c.Send(ctx, n+1); err != nil {
			return struct{}{}, err
		}
	}
})

// TestRunToOrder: lines of the example and of its child come out in the
// order of the messages between them.
func TestRunToOrder(t *testing.T) {
	mptest.CheckLeaks(t)
	e := examples.Example{Name: "relay", Topic: "process", Run: func(ctx context.Context, w io.Writer) error {
		parent, child, err := mp.Pipe(true)
		if err != nil {
			return err
		}
		defer parent.Close()
		p := mp.Command(relay, child)
		p.Stdout = w
		if err := p.Start(); err != nil {
			child.Close()
			return err
		}
		child.Close()
		for i := 0; i < 100; i += 2 {
			fmt.Fprintf(w, "parent sends %d\n", i)
			if err := parent.Send(ctx, i); err != nil {
				return err
			}
			var n int
			if err := parent.Recv(ctx, &n); err != nil {
				return err
			}
			fmt.Fprintf(w, "parent got %d\n", n)
		}
		parent.Send(ctx, -1)
		return p.Wait(ctx)
	}}
	var buf bytes.Buffer
	if err := e.RunTo(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 100; i += 2 {
		want = append(want, fmt.Sprintf("parent sends %d", i), fmt.Sprintf("child got %d", i), fmt.Sprintf("parent got %d", i+1))
	}
	want = append(want, "child got -1")
	if got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("output out of order:\n%s", buf.String())
	}
}

// failingWriter fails every write.
type failingWriter struct{}

var errWrite = errors.New("write failed on purpose")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// TestRunToFailingWriter: an example that prints more than a pipe holds
// does not block when the destination fails; the error is reported.
func TestRunToFailingWriter(t *testing.T) {
	mptest.CheckLeaks(t)
	e := examples.Example{Name: "loud", Topic: "process", Run: func(_ context.Context, w io.Writer) error {
		_, err := w.Write(bytes.Repeat([]byte("x"), 1<<20))
		return err
	}}
	if err := e.RunTo(context.Background(), failingWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("RunTo = %v, want %v", err, errWrite)
	}
}

// TestRunToLeftBehind: a process the example leaves running with its
// output cannot make RunTo wait for ever.
func TestRunToLeftBehind(t *testing.T) {
	mptest.CheckLeaks(t)
	var left *subprocess.Popen
	e := examples.Example{Seed: 99, Name: "leaves", Topic: "process", Run: func(ctx context.Context, w io.Writer) error {
		f, ok := w.(*os.File)
		if !ok {
			return fmt.Errorf("the writer is a %T, want an *os.File", w)
		}
		var err error
		left, err = subprocess.Start(ctx, []string{"sleep", "30"}, &subprocess.Options{Stdout: subprocess.File(f)})
		return err
	}}
	err := e.RunTo(context.Background(), io.Discard)
	if left != nil {
		left.Kill()
		left.Wait(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "examples: 99 returned, but a process it started still holds its output") {
		t.Errorf("RunTo = %v, want the process left behind reported", err)
	}
}

// TestSelectAlso: a seed run by another example's program selects that
// example; seed numbers match with or without a leading zero.
func TestSelectAlso(t *testing.T) {
	e := examples.Example{Seed: 98, Also: []int{97}, Name: "test-also", Topic: "process", Run: func(context.Context, io.Writer) error { return nil }}
	examples.Add(e)
	for _, sel := range []string{"97", "098", "98", "test-also"} {
		got, err := examples.Select(sel)
		if err != nil || len(got) != 1 || got[0].Name != "test-also" {
			t.Errorf("Select(%q) = %v, %v", sel, got, err)
		}
	}
	if got, err := examples.Select("0"); err == nil {
		t.Errorf("Select(\"0\") = %v, want an error", got)
	}
}

// TestSourceAndOriginals: every example knows its Go file and its Python
// original, which exists.
func TestSourceAndOriginals(t *testing.T) {
	e := examples.Example{Seed: 29, Also: []int{30}, Run: func(context.Context, io.Writer) error { return nil }}
	if got := e.Source(); got != "examples/run_test.go" {
		t.Errorf("Source() = %q", got)
	}
	want := []string{"examples/seeds/29-queue-write-read-terminate.py", "examples/seeds/30-producer-consumer-sentinel.py"}
	if got := e.Originals(); !slices.Equal(got, want) {
		t.Errorf("Originals() = %q, want %q", got, want)
	}
	for n := 1; n <= 94; n++ {
		src, err := examples.Original(n)
		if err != nil || !bytes.HasPrefix(src, fmt.Appendf(nil, `"""%02d-`, n)) {
			t.Errorf("Original(%d) = %.40q, %v", n, src, err)
		}
	}
	if _, err := examples.Original(95); err == nil {
		t.Error("Original(95): no error")
	}
}
