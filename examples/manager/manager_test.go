package manager

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/examples/examplestest"
	mgr "github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// count returns how many lines match the pattern.
func count(lines []string, pattern string) int {
	re := regexp.MustCompile(pattern)
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

func TestQueueWriterReader(t *testing.T) {
	lines := examplestest.Run(t, "62")
	var read []string
	for _, l := range lines {
		if ch, ok := strings.CutPrefix(l, "read got from the queue: "); ok {
			read = append(read, ch)
		}
	}
	if strings.Join(read, "") != "Hello Python" && strings.Join(read, "") != "HelloPython" {
		t.Errorf("read %q, want the characters of Hello Python in order", read)
	}
	if n := count(lines, `^write puts . into the queue$`); n != 12 {
		t.Errorf("%d write lines, want 12", n)
	}
	if count(lines, `^write started \d+, parent process is \d+$`) != 1 || count(lines, `^read started \d+, parent process is \d+$`) != 1 {
		t.Errorf("missing start lines:\n%s", strings.Join(lines, "\n"))
	}
}

func TestDictSet(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "63"), "main process>>> {'name': 'Wang Naihui'}", "main process>>> {'name': 'Wang Leehom'}")
}

func TestDictDecrement(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "64"), "{'count': 99}", "{'count': 99}")
}

func TestDictRace(t *testing.T) {
	// Lost updates are likely but not certain: only the shape is checked.
	lines := examplestest.Run(t, "65")
	if len(lines) != 1 || !regexp.MustCompile(`^\{'count': \d+\}$`).MatchString(lines[0]) {
		t.Errorf("output = %q, want one {'count': N}", lines)
	}
}

func TestDictLock(t *testing.T) {
	lines := examplestest.Run(t, "66")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "note: the seed's multiprocessing.Lock reaches its children by fork") {
		t.Fatalf("want a note on the lock first:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Match(t, lines[1:], "{'count': 0}", "with Dict.Add and no lock: {'count': 0}")
}

func TestDictList(t *testing.T) {
	lines := examplestest.Run(t, "67")
	if len(lines) != 2 {
		t.Fatalf("output = %q", lines)
	}
	entries := strings.Split(strings.Trim(lines[0], "{}"), ", ")
	slices.Sort(entries)
	if !slices.Equal(entries, []string{"0: 1", "1: 2", "2: 3", "3: 4", "4: 5"}) {
		t.Errorf("dict = %s", lines[0])
	}
	items := strings.Split(strings.Trim(lines[1], "[]"), ", ")
	slices.Sort(items)
	if !slices.Equal(items, []string{"0", "1", "2", "3", "4"}) {
		t.Errorf("list = %s", lines[1])
	}
}

func TestTaskMaster(t *testing.T) {
	lines := examplestest.Run(t, "68")
	put := map[string]bool{}
	for _, l := range lines {
		if m := regexp.MustCompile(`^Put task (\d+)\.\.\.$`).FindStringSubmatch(l); m != nil {
			put[m[1]] = true
		}
	}
	if len(lines) < 10 || count(lines[:10], `^Put task \d+\.\.\.$`) != 10 {
		t.Fatalf("want 10 Put lines first:\n%s", strings.Join(lines, "\n"))
	}
	results := 0
	for _, l := range lines {
		m := regexp.MustCompile(`^Result: (\d+) \* (\d+) = (\d+)$`).FindStringSubmatch(l)
		if m == nil {
			continue
		}
		results++
		if m[1] != m[2] || !put[m[1]] {
			t.Errorf("result %q is not the square of a task", l)
		}
	}
	if results != 10 {
		t.Errorf("%d results, want 10", results)
	}
	for pattern, want := range map[string]int{`^Connect to server 127\.0\.0\.1:\d+\.\.\.$`: 2, `^run task \d+ \* \d+\.\.\.$`: 10,
		`^worker exit\.$`: 2, `^Try get results\.\.\.$`: 1} {
		if n := count(lines, pattern); n != want {
			t.Errorf("%d lines match %s, want %d", n, pattern, want)
		}
	}
	if lines[len(lines)-1] != "master exit." {
		t.Errorf("last line = %q, want master exit.", lines[len(lines)-1])
	}
}

func TestTaskWorker(t *testing.T) {
	lines := examplestest.Run(t, "69")
	if count(lines, `^run task \d+ \* \d+\.\.\.$`) != 10 {
		t.Errorf("want 10 run lines:\n%s", strings.Join(lines, "\n"))
	}
	examplestest.Contains(t, lines, "task queue is empty.", "worker exit.", "a worker with a wrong key gets manager.ErrAuthentication: true")
}

// TestWorkerBinary runs the task worker as a separately built program, as
// on another machine: it knows only the address and the key.
func TestWorkerBinary(t *testing.T) {
	mptest.CheckLeaks(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the worker with")
	}
	bin := filepath.Join(t.TempDir(), "taskworker")
	if out, err := exec.Command(goTool, "build", "-o", bin, "./taskworker").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := mgr.NewServer(&mgr.ServerOptions{AuthKey: []byte(authKey)})
	for name, spec := range queues {
		srv.Register(name, mgr.NewShared(spec))
	}
	ln, err := mgr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() { stop(); <-served }()
	c, err := mgr.Dial(ctx, ln.Addr().String(), &mgr.DialOptions{AuthKey: []byte(authKey)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	task, _ := mgr.Lookup[mgr.Queue[int]](ctx, c, "get_task_queue")
	result, _ := mgr.Lookup[mgr.Queue[string]](ctx, c, "get_result_queue")
	for i := range 3 {
		must(t, task.Put(ctx, i+2))
	}
	out, err := exec.CommandContext(ctx, bin, "-addr", ln.Addr().String(), "-key", authKey, "-work", "1ms").CombinedOutput()
	if err != nil {
		t.Fatalf("worker: %v\n%s", err, out)
	}
	for _, want := range []string{"2 * 2 = 4", "3 * 3 = 9", "4 * 4 = 16"} {
		if r, err := result.Get(ctx); r != want || err != nil {
			t.Errorf("result = %q, %v; want %q", r, err, want)
		}
	}
	out, err = exec.CommandContext(ctx, bin, "-addr", ln.Addr().String(), "-key", "wrong").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), "authentication failed") {
		t.Errorf("worker with a wrong key: %v\n%s", err, out)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
