package mptest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// double is registered at package level, as every function a child process
// runs must be: the test binary is the child's binary too.
var double = mp.Register("mptest_test.double", func(_ context.Context, x int) (int, error) {
	return 2 * x, nil
})

// A test package whose code starts processes makes mptest.Main its TestMain
// (this package does so in main_test.go):
//
//	func TestMain(m *testing.M) { mptest.Main(m) }
//
// Then the tests run mp functions in child processes, which are new runs of
// the test binary itself.
func Example() {
	y, err := mp.Call(context.Background(), double, 21) // runs in a child process
	fmt.Println(y, err)
	// Output: 42 <nil>
}

// A test calls CheckLeaks first; when the test ends, CheckLeaks fails it if
// anything it started is still there. Here a stand-in for the test's
// *testing.T prints what the test would report. Had the test not waited for
// its process, the report would read:
//
//	mptest: left behind after the test:
//	child process: 12345 (mptest.test) state S
func ExampleCheckLeaks() {
	t := &printingT{}
	testDouble(t)
	t.end()
	// Output:
	// double(4) = 8
	// test passed: nothing left behind
}

// testDouble is the body of a test: func TestDouble(t *testing.T).
func testDouble(t testing.TB) {
	mptest.CheckLeaks(t)
	p := mp.Command(double, 4)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	y, err := mp.Result[int](p)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("double(4) = %d\n", y)
}

// printingT stands in for a *testing.T in ExampleCheckLeaks.
type printingT struct {
	testing.TB // nil: only the methods below are used
	cleanups   []func()
	errors     []string
}

func (t *printingT) Helper()                   {}
func (t *printingT) Cleanup(f func())          { t.cleanups = append(t.cleanups, f) }
func (t *printingT) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (t *printingT) Errorf(f string, a ...any) { t.errors = append(t.errors, fmt.Sprintf(f, a...)) }

// end runs the cleanups, as the testing package does when a test ends,
// and prints the outcome.
func (t *printingT) end() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	if len(t.errors) > 0 {
		fmt.Println("test failed:", strings.Join(t.errors, "\n"))
		return
	}
	fmt.Println("test passed: nothing left behind")
}
