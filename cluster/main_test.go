package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// TestMainWorkerMode runs this test binary again with the join variables
// set: its TestMain's cluster.Main becomes a worker, which works until
// SIGTERM and then exits with status 0.
func TestMainWorkerMode(t *testing.T) {
	key := []byte("a key for the main test")
	c := start(t, &cluster.Options{Key: key})
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, append(key, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPool(t, c, &cluster.PoolOptions{Name: "main"})
	ctx := testCtx(t)

	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cluster.EnvJoin+"="+c.URL(), cluster.EnvKeyFile+"="+keyFile,
		cluster.EnvPool+"=main", cluster.EnvProcesses+"=2")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	in := []int{1, 2, 3, 4, 5, 6, 7, 8}
	got, err := mp.Map(ctx, p, double, in, 1)
	if err != nil || !slices.Equal(got, []int{2, 4, 6, 8, 10, 12, 14, 16}) {
		t.Fatalf("Map = %v, %v", got, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("worker: %v; stderr: %s", err, stderr.Bytes())
	}
}

// TestMainWorkerModeFails checks that a worker that cannot start says why
// and exits with status 1.
func TestMainWorkerModeFails(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cluster.EnvJoin+"=nats://127.0.0.1:1", cluster.EnvProcesses+"=many")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), cluster.EnvProcesses) {
		t.Fatalf("worker: %v, output %q; want status 1 naming %s", err, out, cluster.EnvProcesses)
	}

}

// runWorkerMode runs this test binary as Main's worker with env added to
// its environment, and returns its exit status and standard error; it
// kills the worker if ctx ends first.
func runWorkerMode(t *testing.T, ctx context.Context, env ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode(), stderr.String()
	}
	t.Fatalf("worker: %v; stderr: %s", err, stderr.Bytes())
	return 0, ""
}

// TestMainWorkerJoinTimeout starts a worker whose engine never comes: it
// tries again, saying so, until MP_CLUSTER_JOIN_TIMEOUT, then exits with
// status 1 naming the variable.
func TestMainWorkerJoinTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // connections to it are refused
	code, stderr := runWorkerMode(t, testCtx(t), cluster.EnvJoin+"=nats://"+addr, cluster.EnvJoinTimeout+"=300ms")
	if code != 1 || !strings.Contains(stderr, "gave up after 300ms") || !strings.Contains(stderr, cluster.EnvJoinTimeout) ||
		!strings.Contains(stderr, "cannot reach its engine yet") {
		t.Fatalf("worker: status %d, stderr %q; want status 1, attempts logged and the time given up after", code, stderr)
	}
}

// TestMainWorkerJoinFinalErrors checks that what trying again cannot mend
// ends the worker at once: a key the engine refuses, a client certificate
// without a CA, a join timeout that is not a duration.
func TestMainWorkerJoinFinalErrors(t *testing.T) {
	c := start(t, &cluster.Options{Key: []byte("the engine's key")})
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("another key"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A worker that tried again would wait 10 minutes: testCtx kills it
	// first.
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"wrong key", []string{cluster.EnvJoin + "=" + c.URL(), cluster.EnvKeyFile + "=" + keyFile}, "authentication failed"},
		{"bad timeout", []string{cluster.EnvJoin + "=" + c.URL(), cluster.EnvJoinTimeout + "=soon"}, cluster.EnvJoinTimeout},
		{"zero timeout", []string{cluster.EnvJoin + "=" + c.URL(), cluster.EnvJoinTimeout + "=0s"}, cluster.EnvJoinTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{cluster.EnvJoinTimeout + "=10m"}, tc.env...)
			code, stderr := runWorkerMode(t, testCtx(t), env...)
			if code != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "trying again") {
				t.Fatalf("worker: status %d, stderr %q; want status 1 at once, naming %q", code, stderr, tc.want)
			}
		})
	}
}

// TestMainWorkerStopsWaiting sends SIGTERM to a worker that waits for its
// engine, once it has been turned away twice: it stops waiting and exits
// with status 0, having logged the failed attempt.
func TestMainWorkerStopsWaiting(t *testing.T) {
	ctx := testCtx(t)
	// The engine's address, held by a listener that turns every
	// connection away.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tried := make(chan struct{}, 2)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Close()
			select {
			case tried <- struct{}{}:
			default:
			}
		}
	}()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cluster.EnvJoin+"=nats://"+l.Addr().String(), cluster.EnvJoinTimeout+"=10m")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second attempt comes after the first is logged
		select {
		case <-tried:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("worker: %v; stderr: %s", err, stderr.Bytes())
	}
	if !strings.Contains(stderr.String(), "cannot reach its engine yet") {
		t.Errorf("stderr %q: want the failed attempt logged", stderr.Bytes())
	}
}
