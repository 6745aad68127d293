package mp_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

type whoami struct {
	Pid, PPid int
	Name      string
	Daemon    bool
	Env, Dir  string
}

var (
	echo = mp.Register("test.echo", func(_ context.Context, s string) (string, error) { return s, nil })
	who  = mp.Register("test.who", func(_ context.Context, env string) (whoami, error) {
		dir, _ := os.Getwd()
		c := mp.Current()
		return whoami{Pid: os.Getpid(), PPid: mp.ParentPID(), Name: c.Name, Daemon: c.Daemon, Env: os.Getenv(env), Dir: dir}, nil
	})
	fail = mp.Register("test.fail", func(_ context.Context, msg string) (int, error) {
		return 0, fmt.Errorf("failing on purpose (%s): %w", msg, mp.ErrEmpty)
	})
	boom = mp.Register("test.panic", func(_ context.Context, msg string) (int, error) { panic(msg) })
	exit = mp.Register("test.exit", func(_ context.Context, code int) (int, error) {
		fmt.Fprintln(os.Stderr, "about to exit with", code)
		os.Exit(code)
		return 0, nil
	})
	sleep = mp.Register("test.sleep", func(ctx context.Context, d time.Duration) (struct{}, error) {
		time.Sleep(d) // ignores ctx on purpose: deadlines must still kill it
		return struct{}{}, nil
	})
	printLines = mp.Register("test.print", func(_ context.Context, n int) (struct{}, error) {
		for i := range n {
			fmt.Printf("line %d of process %d %s\n", i, os.Getpid(), strings.Repeat("x", 100))
		}
		return struct{}{}, nil
	})
	report = mp.Register("test.report", func(_ context.Context, env string) (struct{}, error) {
		dir, _ := os.Getwd()
		c := mp.Current()
		fmt.Printf("pid=%d ppid=%d name=%s daemon=%v env=%s dir=%s\n", os.Getpid(), mp.ParentPID(), c.Name, c.Daemon, os.Getenv(env), dir)
		return struct{}{}, nil
	})
	startChild = mp.Register("test.startChild", func(ctx context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, mp.Command(echo, "grandchild").Run(ctx)
	})
)

var methods = []mp.StartMethod{mp.Spawn, mp.Forkserver, mp.Goroutine}

func TestCallEachMethod(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, m := range methods {
		t.Run(string(m), func(t *testing.T) {
			p := mp.Command(who, "MP_TEST_VAR")
			p.StartMethod = m
			p.Env = append(os.Environ(), "MP_TEST_VAR=value-"+string(m))
			p.Dir = os.TempDir()
			if err := p.Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			code, ok := p.ExitCode()
			if !ok || code != 0 {
				t.Errorf("ExitCode() = %d, %v; want 0, true", code, ok)
			}
			if p.Alive() {
				t.Error("Alive() after Run")
			}
			p.Close()
			got, err := mp.Call(context.Background(), who, "HOME")
			if err != nil {
				t.Fatal(err)
			}
			if m != mp.Goroutine && (got.Pid == os.Getpid() || got.PPid != os.Getpid()) {
				t.Errorf("child pid %d, ppid %d; parent %d", got.Pid, got.PPid, os.Getpid())
			}
		})
	}
}

// runReport runs the report function in p's settings and parses its line.
func runReport(t *testing.T, p *mp.Process) map[string]string {
	t.Helper()
	var out bytes.Buffer
	p.Stdout = &out
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	fields := map[string]string{}
	for _, f := range strings.Fields(out.String()) {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	if fields["pid"] != strconv.Itoa(p.Pid()) {
		t.Errorf("child printed pid %s, Pid() = %d", fields["pid"], p.Pid())
	}
	return fields
}

func TestEnvDirNameApplied(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, m := range []mp.StartMethod{mp.Spawn, mp.Forkserver} {
		t.Run(string(m), func(t *testing.T) {
			dir := t.TempDir()
			p := mp.Command(report, "MP_X")
			p.StartMethod, p.Env, p.Dir, p.Daemon = m, []string{"MP_X=yes"}, dir, true
			got := runReport(t, p)
			want := map[string]string{"env": "yes", "dir": dir, "daemon": "true", "ppid": strconv.Itoa(os.Getpid()), "name": p.Name}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("child saw %s=%q, want %q", k, got[k], v)
				}
			}
			if !strings.HasPrefix(p.Name, "Process-") {
				t.Errorf("default name %q, want Process-N", p.Name)
			}
			// An inherited environment is today's, even for a warm process.
			os.Setenv("MP_LATE", "late")
			defer os.Unsetenv("MP_LATE")
			q := mp.Command(report, "MP_LATE")
			q.StartMethod, q.Name = m, "worker-7"
			got = runReport(t, q)
			if got["env"] != "late" || got["name"] != "worker-7" {
				t.Errorf("child saw env %q name %q; want late, worker-7", got["env"], got["name"])
			}
		})
	}
}

// A warm process is spawned in the environment and directory of the
// moment, and a start sends only what changed since: it must still see
// today's, and what it was spawned with when nothing changed.
func TestWarmFollowsEnvAndDir(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	os.Setenv("MP_EARLY", "early")
	defer os.Unsetenv("MP_EARLY")
	if err := mp.WarmUp(ctx, 1); err != nil {
		t.Fatal(err)
	}
	p := mp.Command(report, "MP_EARLY")
	p.StartMethod = mp.Forkserver
	wd, _ := os.Getwd()
	if got := runReport(t, p); got["env"] != "early" || got["dir"] != wd {
		t.Errorf("unchanged: child saw env %q dir %q; want early, %s", got["env"], got["dir"], wd)
	}
	if err := mp.WarmUp(ctx, 1); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	os.Unsetenv("MP_EARLY")
	q := mp.Command(report, "MP_EARLY")
	q.StartMethod = mp.Forkserver
	if got := runReport(t, q); got["env"] != "" || got["dir"] != dir {
		t.Errorf("changed: child saw env %q dir %q; want \"\", %s", got["env"], got["dir"], dir)
	}
}

func TestExitCodes(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	t.Run("error", func(t *testing.T) {
		p := mp.Command(fail, "x")
		err := p.Run(ctx)
		var re *mp.RemoteError
		if !errors.As(err, &re) || re.Panic || !strings.Contains(re.Message, "failing on purpose") {
			t.Fatalf("Run = %v, want a RemoteError with the message", err)
		}
		if !errors.Is(err, mp.ErrEmpty) {
			t.Errorf("remote error does not match the sentinel it wrapped: %v", err)
		}
		if code, _ := p.ExitCode(); code != 1 {
			t.Errorf("ExitCode() = %d, want 1", code)
		}
	})
	t.Run("panic", func(t *testing.T) {
		_, err := mp.Call(ctx, boom, "kaboom")
		var re *mp.RemoteError
		if !errors.As(err, &re) || !re.Panic || re.Message != "kaboom" || !strings.Contains(re.Stack, "process_test.go") {
			t.Fatalf("Call = %#v, want a panic RemoteError with the child's stack", err)
		}
	})
	t.Run("os.Exit", func(t *testing.T) {
		p := mp.Command(exit, 7)
		var stderr bytes.Buffer
		p.Stderr = &stderr
		err := p.Run(ctx)
		var ee *mp.ExitError
		if !errors.As(err, &ee) || ee.Code != 7 || ee.Signal != 0 {
			t.Fatalf("Run = %v, want ExitError code 7", err)
		}
		if !strings.Contains(string(ee.Stderr), "about to exit with 7") {
			t.Errorf("ExitError.Stderr = %q, want the child's last words", ee.Stderr)
		}
		if code, _ := p.ExitCode(); code != 7 {
			t.Errorf("ExitCode() = %d, want 7", code)
		}
	})
	t.Run("os.Exit(0)", func(t *testing.T) {
		p := mp.Command(exit, 0)
		p.Stderr = io.Discard
		if err := p.Run(ctx); err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	})
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			p := mp.Command(sleep, time.Minute)
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			if !p.Alive() {
				t.Error("Alive() = false after Start")
			}
			if sig == syscall.SIGTERM {
				p.Terminate()
			} else {
				p.Kill()
			}
			err := p.Wait(ctx)
			var ee *mp.ExitError
			if !errors.As(err, &ee) || ee.Signal != sig || ee.Code != -int(sig) {
				t.Fatalf("Wait = %v, want killed by %v", err, sig)
			}
			if code, _ := p.ExitCode(); code != -int(sig) {
				t.Errorf("ExitCode() = %d, want %d", code, -int(sig))
			}
			if err := p.Terminate(); err != nil {
				t.Errorf("Terminate after exit = %v, want nil", err)
			}
		})
	}
}

func TestWaitTimeoutLeavesProcessRunning(t *testing.T) {
	mptest.CheckLeaks(t)
	p := mp.Command(sleep, time.Minute)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want DeadlineExceeded", err)
	}
	if _, ok := p.ExitCode(); ok || !p.Alive() {
		t.Fatal("process ended after a Wait timeout")
	}
	p.Kill()
	p.Wait(context.Background())
}

func TestCallDeadlineKills(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := mp.Call(ctx, sleep, time.Minute)
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Call returned after %v", d)
	}
}

func TestMisuse(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := context.Background()
	p := mp.Command(sleep, time.Minute)
	if err := p.Wait(ctx); !errors.Is(err, mp.ErrNotStarted) {
		t.Errorf("Wait before Start = %v, want ErrNotStarted", err)
	}
	if err := p.Kill(); !errors.Is(err, mp.ErrNotStarted) {
		t.Errorf("Kill before Start = %v, want ErrNotStarted", err)
	}
	if _, ok := p.ExitCode(); ok || p.Alive() || p.Pid() != 0 {
		t.Error("unstarted process reports an exit code, life or pid")
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); !errors.Is(err, mp.ErrAlreadyStarted) {
		t.Errorf("second Start = %v, want ErrAlreadyStarted", err)
	}
	if err := p.Close(); !errors.Is(err, mp.ErrStillRunning) {
		t.Errorf("Close while running = %v, want ErrStillRunning", err)
	}
	p.Kill()
	p.Wait(ctx)
	if err := p.Close(); err != nil {
		t.Errorf("Close after exit = %v", err)
	}
	if err := p.Wait(ctx); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("Wait after Close = %v, want ErrClosed", err)
	}
	if err := mp.SetStartMethod(mp.Fork); !errors.Is(err, mp.ErrForkUnsupported) {
		t.Errorf("SetStartMethod(Fork) = %v, want ErrForkUnsupported", err)
	}
	q := mp.Command(echo, "x")
	q.StartMethod = mp.Fork
	if err := q.Start(); !errors.Is(err, mp.ErrForkUnsupported) {
		t.Errorf("Start with Fork = %v, want ErrForkUnsupported", err)
	}
}

func TestDaemonCannotStartChildren(t *testing.T) {
	mptest.CheckLeaks(t)
	p := mp.Command(startChild, struct{}{})
	p.Daemon = true
	if err := p.Run(context.Background()); !errors.Is(err, mp.ErrDaemonChildren) {
		t.Fatalf("daemon starting a child: %v, want ErrDaemonChildren", err)
	}
	q := mp.Command(startChild, struct{}{})
	if err := q.Run(context.Background()); err != nil {
		t.Fatalf("non-daemon starting a child: %v", err)
	}
}

func TestActiveChildren(t *testing.T) {
	mptest.CheckLeaks(t)
	p := mp.Command(sleep, time.Minute)
	p.Start()
	found := false
	for _, c := range mp.ActiveChildren() {
		found = found || c == p
	}
	if !found {
		t.Error("ActiveChildren() lacks a running child")
	}
	p.Kill()
	p.Wait(context.Background())
	for _, c := range mp.ActiveChildren() {
		if c == p {
			t.Error("ActiveChildren() lists an ended child")
		}
	}
}

func TestOutputLinesStayWhole(t *testing.T) {
	mptest.CheckLeaks(t)
	var mu sync.Mutex
	var out bytes.Buffer
	w := lockedWriter{&mu, &out}
	var procs []*mp.Process
	for range 4 {
		p := mp.Command(printLines, 200)
		p.Stdout = w
		p.Start()
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		n++
		if !strings.HasPrefix(sc.Text(), "line ") || !strings.HasSuffix(sc.Text(), strings.Repeat("x", 100)) {
			t.Fatalf("mixed line: %q", sc.Text())
		}
	}
	if n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestBadDirFailsStart(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, m := range methods {
		p := mp.Command(echo, "x")
		p.StartMethod, p.Dir = m, "/nonexistent/dir"
		if err := p.Start(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: Start in a missing directory = %v, want ErrNotExist", m, err)
		}
	}
}

// slowArg takes its time to encode: while it does, the Process is starting.
type slowArg struct{ entered, release chan struct{} }

func (a slowArg) MarshalCBOR() ([]byte, error) {
	close(a.entered)
	<-a.release
	return []byte{0xf6}, nil // CBOR null
}

func (a *slowArg) UnmarshalCBOR([]byte) error { return nil }

var takeSlow = mp.Register("test.takeSlow", func(ctx context.Context, _ slowArg) (struct{}, error) {
	<-ctx.Done() // until killed
	return struct{}{}, ctx.Err()
})

// Pid, Alive and Done answer while Start is under way; a second Start and
// a Close report the process as starting; Kill and Wait wait for the Start
// to end, then act on the process it started.
func TestProcessAnswersWhileStarting(t *testing.T) {
	mptest.CheckLeaks(t)
	arg := slowArg{entered: make(chan struct{}), release: make(chan struct{})}
	p := mp.Command(takeSlow, arg)
	started := make(chan error, 1)
	go func() { started <- p.Start() }()
	<-arg.entered
	if p.Pid() != 0 || p.Alive() || p.Done() != nil {
		t.Errorf("while starting: Pid %d, Alive %v, Done %v", p.Pid(), p.Alive(), p.Done())
	}
	if err := p.Start(); !errors.Is(err, mp.ErrAlreadyStarted) {
		t.Errorf("a second Start while starting = %v, want ErrAlreadyStarted", err)
	}
	if err := p.Close(); !errors.Is(err, mp.ErrStillRunning) {
		t.Errorf("Close while starting = %v, want ErrStillRunning", err)
	}
	killed := make(chan error, 1)
	go func() { killed <- p.Kill() }()
	close(arg.release)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if err := <-killed; err != nil {
		t.Fatalf("Kill while starting = %v, want it to wait for Start and kill", err)
	}
	var ee *mp.ExitError
	if err := p.Wait(context.Background()); !errors.As(err, &ee) || ee.Signal != syscall.SIGKILL {
		t.Fatalf("Wait after the Kill = %v, want the process killed", err)
	}
	p.Close()
}
