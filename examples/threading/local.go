package threading

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 91, Topic: "threading", Name: "thread-local", Title: "no goroutine-local storage: pass values, or a context", Run: local})
}

// studentKey is the context key of the current student; an unexported type
// keeps other packages' keys from colliding with it.
type studentKey struct{}

// local is seed 91. Go has no goroutine-local storage, on purpose: state
// hidden in "whoever runs me" breaks as soon as work moves to another
// goroutine (a pool, an errgroup), and it cannot be seen at the call. The
// Go way is an explicit parameter, or for request-scoped values that cross
// API boundaries, a context.Context value. Both are shown.
func local(ctx context.Context, w io.Writer) error {
	var wg sync.WaitGroup
	for _, t := range []struct{ student, name string }{{"Alice", "goroutine-A"}, {"Bob", "goroutine-B"}} {
		wg.Go(func() {
			processStudent(w, t.student, t.name) // explicit parameters
			ctx := context.WithValue(ctx, studentKey{}, t.student)
			greetFromContext(ctx, w, t.name) // a context value
		})
	}
	wg.Wait()
	return nil
}

func processStudent(w io.Writer, student, name string) {
	fmt.Fprintf(w, "Hello, %s (in %s)\n", student, name)
}

func greetFromContext(ctx context.Context, w io.Writer, name string) {
	student, _ := ctx.Value(studentKey{}).(string)
	fmt.Fprintf(w, "Hello again, %s (from the context, in %s)\n", student, name)
}
