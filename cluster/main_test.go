package cluster_test

import (
	"bytes"
	"errors"
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
