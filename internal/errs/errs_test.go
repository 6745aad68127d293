package errs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
)

func TestWithContext(t *testing.T) {
	err := WithContext(ErrEmpty, context.DeadlineExceeded)
	if !errors.Is(err, ErrEmpty) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WithContext(Empty, DeadlineExceeded) = %v: does not match both", err)
	}
	if got := WithContext(nil, context.Canceled); got != context.Canceled {
		t.Errorf("WithContext(nil, Canceled) = %v, want Canceled itself", got)
	}
	if err := Deadline(context.DeadlineExceeded); !errors.Is(err, ErrTimeout) {
		t.Errorf("Deadline(DeadlineExceeded) = %v: does not match Timeout", err)
	}
	if err := Deadline(context.Canceled); err != context.Canceled {
		t.Errorf("Deadline(Canceled) = %v, want Canceled itself", err)
	}
}

func TestProtocolErrorsMatchProtocol(t *testing.T) {
	for _, err := range []error{ErrTooLarge, ErrBadHeader, ErrNotSealed, ProtocolError("x")} {
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%v does not match Protocol", err)
		}
	}
}

// runs numbers the runs of TestRegistry, which registers a new name each
// time (go test -count runs it more than once in one process).
var runs int

func TestRegistry(t *testing.T) {
	runs++
	mine := fmt.Sprintf("errs_test.mine%d", runs)
	errMine := errors.New("mine")
	Register(mine, errMine)
	if name, ok := Name(errMine); !ok || name != mine {
		t.Errorf("Name = %q, %v", name, ok)
	}
	got := Matched(fmt.Errorf("wrapped: %w", errors.Join(errMine, io.EOF)))
	if !slices.Contains(got, mine) || !slices.Contains(got, "io.EOF") {
		t.Errorf("Matched = %v, want the names of both", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second registration of a name did not panic")
		}
	}()
	Register(mine, errors.New("other"))
}

func TestDescribe(t *testing.T) {
	r := Describe("f", fmt.Errorf("open: %w", os.ErrNotExist))
	if r.Func != "f" || r.Pid != os.Getpid() || r.Panic || !slices.Contains(r.Sentinels, "fs.ErrNotExist") {
		t.Errorf("Describe = %+v", r)
	}
	var p *Remote
	func() {
		defer func() { p = Panicked(recover()) }()
		panic("boom")
	}()
	d := Describe("g", p)
	if !d.Panic || d.Func != "g" || d.Message != "boom" || d.Stack == "" {
		t.Errorf("Describe of a panic = %+v", d)
	}
}
