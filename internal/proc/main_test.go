package proc

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/funcs"
	"github.com/mpgo/mp/internal/wire"
)

// The test binary is its own child: Main runs the function a parent asks
// for when the binary is started as a child.
func TestMain(m *testing.M) {
	Main(nil)
	os.Exit(m.Run())
}

func init() {
	funcs.Add("proc_test.echo", func(_ context.Context, arg []byte, fds []int) ([]byte, []int, error) {
		var s string
		if err := wire.Unmarshal(arg, fds, &s); err != nil {
			return nil, nil, err
		}
		if s == "fail" {
			return nil, nil, errs.ErrFull
		}
		if s == "exit" {
			os.Exit(7)
		}
		if s == "block" {
			select {} // until killed
		}
		return wire.Marshal(strings.ToUpper(s))
	}, nil)
}

func startEcho(t *testing.T, method Method, arg string) Runner {
	t.Helper()
	data, _, err := wire.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(&Spec{Func: "proc_test.echo", Arg: data, Name: "echo", Method: method})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Each method runs the function and reports its result, its error with
// the sentinels it matched, and an exit without a result.
func TestStartMethods(t *testing.T) {
	for _, m := range []struct {
		name   string
		method Method
	}{{"spawned", Spawned}, {"warm", Warm}, {"in-process", InProcess}} {
		t.Run(m.name, func(t *testing.T) {
			out := startEcho(t, m.method, "hi").Wait()
			var got string
			if out.Code != 0 || out.Result == nil || wire.Unmarshal(out.Result.Value, out.Result.FDs, &got) != nil || got != "HI" {
				t.Fatalf("echo: %+v, result %q", out, got)
			}
			out = startEcho(t, m.method, "fail").Wait()
			if out.Code != 1 || out.Result == nil || out.Result.Err == nil || len(out.Result.Err.Sentinels) == 0 || out.Result.Err.Sentinels[0] != "mp.ErrFull" {
				t.Fatalf("failing echo: %+v", out)
			}
			if m.method == InProcess {
				return // os.Exit would end the test
			}
			out = startEcho(t, m.method, "exit").Wait()
			if out.Code != 7 || out.Result != nil || !out.Hello {
				t.Fatalf("exiting echo: %+v", out)
			}
		})
	}
}

// A child of an unknown function reports why; a killed child reports its
// signal.
func TestUnknownAndKilledChild(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	data, _, _ := wire.Marshal("hi")
	r, err := Start(&Spec{Func: "proc_test.missing", Arg: data, Method: Spawned})
	if err != nil {
		t.Fatalf("Start of an unknown function: %v", err)
	}
	out := r.Wait()
	if out.Code != 1 || out.Result == nil || out.Result.Err == nil || !strings.Contains(out.Result.Err.Message, "not registered") {
		t.Fatalf("unknown function: %+v", out)
	}
	if err := WarmUp(ctx, 1); err != nil {
		t.Fatal(err)
	}
	r = startEcho(t, Warm, "block")
	r.Signal(syscall.SIGKILL)
	if out := r.Wait(); out.Signal != syscall.SIGKILL || out.Code != -9 || out.Result != nil {
		t.Fatalf("killed: %+v", out)
	}
}
