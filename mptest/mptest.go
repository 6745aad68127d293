// Package mptest helps test programs that use mp: one TestMain that makes
// the test binary a working child binary, and one call per test that proves
// the test left nothing behind.
//
// # The test binary is the child
//
// mp starts a child process by running the program's own binary again; in a
// test, that binary is the test binary. Main is the TestMain of every
// package whose tests start processes: it lets a child run its function
// (mp.Main) before the tests would run.
//
//	func TestMain(m *testing.M) { mptest.Main(m) }
//
// Functions that children run are registered at package level, in the test
// files or in the code under test, as everywhere with mp.
//
// # Nothing left behind
//
// CheckLeaks, called first in a test, records what the process holds and
// fails the test if, once the test and its cleanups have ended, it holds
// more:
//
//   - child processes, running or zombie (not reaped);
//   - open file descriptors, or descriptors that now refer to something else;
//   - named shared memory in /dev/shm: segments this process created with
//     package shm and did not remove, and entries that this process or its
//     children hold and no other program does (/dev/shm is shared with the
//     test binaries of other packages running at the same time);
//   - goroutines.
//
// A test using it:
//
//	func TestSquare(t *testing.T) {
//		mptest.CheckLeaks(t)
//		y, err := mp.Call(ctx, square, 7)
//		...
//	}
//
// Things that wind down asynchronously (a child being reaped, a goroutine
// returning after Close) get a few seconds before they count as leaked; a
// clean test pays nothing for that. What mp keeps for the life of the
// process — warm spare processes of the Forkserver start method, with their
// descriptors and goroutines — and the testing package's own goroutines are
// not counted. The report lists each leftover: a child's pid, name and
// state; a descriptor and its target; a goroutine's full stack.
//
// CheckLeaks looks at the whole process, so a test that calls it must not
// run in parallel with other tests (no t.Parallel). Setting the
// environment variable MPTEST_DEBUG prints what is still pending while
// CheckLeaks waits.
//
// CheckLeaks works on Linux, macOS and FreeBSD. It reads the process table
// (/proc on Linux, sysctl on macOS and FreeBSD) and this process's
// descriptors (/proc/self/fd on Linux, /dev/fd on macOS, sysctl
// kern.proc.filedesc on FreeBSD). A descriptor's target is a path where
// the system gives one; elsewhere (a pipe or socket on macOS and FreeBSD)
// it is the object's kind and identity as far as the system tells, so a
// descriptor number reused for another object of that kind may go unseen
// there, while a descriptor left open always shows.
package mptest

import (
	"os"
	"testing"

	"github.com/mpgo/mp"
)

// Main calls mp.Main (which does not return in a child process), then runs
// the tests and exits with their status.
func Main(m *testing.M) {
	mp.Main()
	os.Exit(m.Run())
}
