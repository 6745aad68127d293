package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go/jetstream"
)

// runCommand, set in the environment, makes the test binary run the
// command with its arguments instead of the tests.
const runCommand = "MPCLUSTER_TEST_RUN_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(runCommand) == "1" {
		main()
	}
	cluster.Main()
	os.Exit(m.Run())
}

// command is the command with args, run by the test binary.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runCommand+"=1")
	return cmd
}

// exitCode runs cmd and returns its exit code, with what it printed.
func exitCode(t *testing.T, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServe starts `mpcluster serve` with args and returns it with the URL it
// printed.
func startServe(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := command(append([]string{"serve", "-listen", "127.0.0.1:0", "-dir", t.TempDir()}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no URL from serve: %v\n%s", err, stderr.String())
	}
	return cmd, strings.TrimSpace(line)
}

// TestServeStatus runs serve, shows a pool's queued and running tasks
// with status, then stops serve with SIGTERM.
func TestServeStatus(t *testing.T) {
	keyFile := writeFile(t, "key", "the key\n")
	srv, url := startServe(t, "-key-file", keyFile)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Connect(ctx, url, &cluster.ConnectOptions{Key: []byte("the key")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fillStreams(ctx, t, c.JetStream())

	code, stdout, stderr := exitCode(t, command("status", "-url", url, "-key-file", keyFile))
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	t.Logf("status:\n%s", stdout)
	for _, want := range [][]string{
		{"MPPOOL_demo", "3", "*", "1", "3", "1", "mp.pool.demo.task"},
		{"MPPOOL_demo", "mp-workers", "2", "1", "0", "0"},
		{"demo", "2", "1", "0"},
	} {
		if !hasRow(stdout, want) {
			t.Errorf("status shows no row %q", want)
		}
	}
	if strings.Contains(stdout, "OTHER") {
		t.Errorf("status shows a stream that is not mp's")
	}
	_, all, _ := exitCode(t, command("status", "-url", url, "-key-file", keyFile, "-all"))
	if !strings.Contains(all, "OTHER") {
		t.Errorf("status -all does not show every stream:\n%s", all)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}

// fillStreams makes a pool's task stream with 3 tasks, one of them taken
// and not acknowledged, and a stream that is not mp's.
func fillStreams(ctx context.Context, t *testing.T, js jetstream.JetStream) {
	t.Helper()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "MPPOOL_demo", Subjects: []string{"mp.pool.demo.task"},
		Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other"}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctx, "mp.pool.demo.task", []byte("task")); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "mp-workers", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
}

// hasRow reports whether out has a line whose fields are want ("*"
// matches any field).
func hasRow(out string, want []string) bool {
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == len(want) && slices.EqualFunc(f, want, func(a, b string) bool { return b == "*" || a == b }) {
			return true
		}
	}
	return false
}

func TestExitCodes(t *testing.T) {
	keyFile := writeFile(t, "key", "the key")
	wrongKey := writeFile(t, "wrong", "another key")
	emptyKey := writeFile(t, "empty", "\n")
	_, url := startServe(t, "-key-file", keyFile)
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{"status", []string{"status", "-url", url, "-key-file", keyFile}, 0},
		{"wrong key", []string{"status", "-url", url, "-key-file", wrongKey}, 3},
		{"empty key", []string{"status", "-url", url, "-key-file", emptyKey}, 3},
		{"no engine", []string{"status", "-url", "nats://127.0.0.1:1", "-key-file", keyFile}, 1},
		{"CA file without a certificate", []string{"status", "-url", url, "-key-file", keyFile, "-tls-ca", keyFile}, 1},
		{"no key file", []string{"status", "-url", url}, 2},
		{"no arguments", nil, 2},
		{"unknown command", []string{"start"}, 2},
		{"unknown flag", []string{"serve", "-port", "1"}, 2},
		{"extra argument", []string{"status", "-url", url, "-key-file", keyFile, "more"}, 2},
		{"tls key without cert", []string{"serve", "-key-file", keyFile, "-tls-key", keyFile}, 2},
		{"insecure", []string{"serve", "-key-file", keyFile, "-listen", "0.0.0.0:0", "-dir", t.TempDir()}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := exitCode(t, command(tt.args...))
			if code != tt.want {
				t.Errorf("exit code %d, want %d\n%s", code, tt.want, stderr)
			}
		})
	}
}
