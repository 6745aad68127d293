package mp

import (
	"context"
	"errors"
	"os"
	"testing"
)

// parentOnly is registered in the parent but not in its children, as when
// the child is a binary that lacks the function.
var parentOnly = func() Func[int, int] {
	if os.Getenv("_MP_CHILD") != "" { // the marker of a child started by mp
		return Func[int, int]{name: "test.parentOnly"}
	}
	return Register("test.parentOnly", func(_ context.Context, x int) (int, error) { return x, nil })
}()

func TestUnknownFunctionInChild(t *testing.T) {
	_, err := Call(context.Background(), parentOnly, 1)
	if !errors.Is(err, ErrUnknownFunction) {
		t.Fatalf("Call of a function the child lacks = %v, want ErrUnknownFunction", err)
	}
}
