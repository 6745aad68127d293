package subprocess_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/subprocess"
)

func TestPipeline(t *testing.T) {
	mptest.CheckLeaks(t)
	res, err := subprocess.RunPipeline(bg, [][]string{
		{"tr", "a-z", "A-Z"},
		{"sort"},
		{"uniq", "-c"},
	}, &subprocess.Options{Input: []byte("b\na\nb\n"), Stdout: subprocess.Pipe})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(string(res.Stdout())), " ")
	if got != "1 A 2 B" {
		t.Errorf("output %q, want 1 A 2 B", got)
	}
	if res.ReturnCode() != 0 || len(res.Commands) != 3 || res.Commands[1].Args[0] != "sort" {
		t.Errorf("result %+v", res)
	}
}

// TestPipelineStatuses: every status is reported, and the pipeline's is
// the last failure's (pipefail).
func TestPipelineStatuses(t *testing.T) {
	mptest.CheckLeaks(t)
	cmds := [][]string{{"sh", "-c", "echo bad >&2; exit 3"}, {"sh", "-c", "cat; exit 5"}, {"cat"}}
	res, err := subprocess.RunPipeline(bg, cmds, &subprocess.Options{Capture: true})
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, c := range res.Commands {
		codes = append(codes, c.ReturnCode)
	}
	if !slices.Equal(codes, []int{3, 5, 0}) || res.ReturnCode() != 5 {
		t.Errorf("codes %v, pipeline %d; want [3 5 0], 5", codes, res.ReturnCode())
	}
	if string(res.Commands[0].Stderr) != "bad\n" || string(res.Commands[2].Stderr) != "" {
		t.Errorf("stderr of each: %q, %q", res.Commands[0].Stderr, res.Commands[2].Stderr)
	}
	_, err = subprocess.RunPipeline(bg, cmds, &subprocess.Options{Capture: true, Check: true})
	var cpe *subprocess.CalledProcessError
	if !errors.As(err, &cpe) || cpe.ReturnCode != 5 || cpe.Args[2] != "cat; exit 5" {
		t.Errorf("Check: %v, want the second command's failure", err)
	}
}

// TestPipelineTimeout: one timeout for the whole chain; nothing is left
// running.
func TestPipelineTimeout(t *testing.T) {
	mptest.CheckLeaks(t)
	started := time.Now()
	res, err := subprocess.RunPipeline(bg, [][]string{
		{"sh", "-c", "echo first; exec sleep 30"},
		{"cat"},
		{"sh", "-c", "sleep 30 & echo $! >&2; cat; wait"},
	}, &subprocess.Options{Stdout: subprocess.Pipe, Stderr: subprocess.Pipe, Timeout: 300 * time.Millisecond})
	var te *subprocess.TimeoutExpired
	if !errors.As(err, &te) || !errors.Is(err, subprocess.ErrTimeout) {
		t.Fatalf("err = %v, want *TimeoutExpired", err)
	}
	if string(te.Stdout) != "first\n" || string(res.Stdout()) != "first\n" {
		t.Errorf("output %q / %q, want %q", te.Stdout, res.Stdout(), "first\n")
	}
	if d := time.Since(started); d > promptly {
		t.Errorf("returned after %v", d)
	}
	// The middle cat may see end of file and exit before its SIGKILL.
	for _, i := range []int{0, 2} {
		if c := res.Commands[i]; c.ReturnCode != -9 {
			t.Errorf("%v: code %d, want -9", c.Args, c.ReturnCode)
		}
	}
	waitGone(t, parsePid(t, string(res.Commands[2].Stderr)))
}

func TestPipelineBadInput(t *testing.T) {
	mptest.CheckLeaks(t)
	if _, err := subprocess.RunPipeline(bg, nil, nil); !errors.Is(err, subprocess.ErrNoCommand) {
		t.Errorf("no commands: %v", err)
	}
	if _, err := subprocess.RunPipeline(bg, [][]string{{"true"}, {}}, nil); !errors.Is(err, subprocess.ErrNoCommand) {
		t.Errorf("an empty command: %v", err)
	}
	if _, err := subprocess.RunPipeline(bg, [][]string{{"sleep", "30"}, {"no-such-program-mp"}}, nil); err == nil {
		t.Error("a missing program: no error")
	}
	if _, err := subprocess.RunPipeline(bg, [][]string{{"true"}}, &subprocess.Options{Capture: true, Stdout: subprocess.Pipe}); !errors.Is(err, subprocess.ErrBadOptions) {
		t.Errorf("Capture with Stdout: %v", err)
	}
}
