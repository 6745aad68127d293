package queue

import (
	"context"
	"fmt"
	"github.com/mpgo/mp/examples"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mpgo/mp"
)

// randomPause sleeps up to 100 ms: the seeds sleep up to a second
// (random.random()); the tour keeps their shape at a tenth of the time.
func randomPause(ctx context.Context) {
	examples.Sleep(ctx, time.Duration(rand.Int64N(int64(100*time.Millisecond))))
}

// start starts fn(arg) with its output going to w.
func start[In any](fn mp.Func[In, struct{}], arg In, w io.Writer) (*mp.Process, error) {
	p := mp.Command(fn, arg)
	p.Stdout = w
	return p, p.Start()
}

// repr formats a value as Python's print would show it.
func repr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + v + "'"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = repr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// ANSI colours of the seeds' producer (red) and consumer (green) lines.
const (
	red   = "\033[1;31m"
	green = "\033[1;32m"
	reset = "\033[0m"
)
