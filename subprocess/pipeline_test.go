package subprocess_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
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

// TestPipelineTimeout: one timeout for the whole chain stops every
// command at once, even those that would see their input end and exit 0;
// the error names the pipeline; nothing is left running.
func TestPipelineTimeout(t *testing.T) {
	mptest.CheckLeaks(t)
	cmds := [][]string{
		{"sh", "-c", "echo first; exec sleep 30"},
		{"cat"},
		{"sh", "-c", "sleep 30 & echo $! >&2; cat; wait"},
	}
	res, err := subprocess.RunPipeline(bg, cmds, &subprocess.Options{Stdout: subprocess.Pipe, Stderr: subprocess.Pipe, Timeout: 3 * time.Second})
	var te *subprocess.TimeoutExpired
	if !errors.As(err, &te) || !errors.Is(err, subprocess.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want *TimeoutExpired", err)
	}
	want := `subprocess: pipeline [sh -c "echo first; exec sleep 30"] | [cat] | [sh -c "sleep 30 & echo $! >&2; cat; wait"] timed out after 3s`
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if len(te.Pipeline) != 3 || te.Pipeline[1][0] != "cat" || te.Args != nil || te.Timeout != 3*time.Second {
		t.Errorf("TimeoutExpired = %+v", te)
	}
	if string(te.Stdout) != "first\n" || string(res.Stdout()) != "first\n" {
		t.Errorf("output %q / %q, want %q", te.Stdout, res.Stdout(), "first\n")
	}
	for _, c := range res.Commands {
		if c.ReturnCode != -9 {
			t.Errorf("%v: code %d, want -9", c.Args, c.ReturnCode)
		}
	}
	if res.ReturnCode() != -9 {
		t.Errorf("pipeline code %d, want -9", res.ReturnCode())
	}
	waitGone(t, parsePid(t, string(res.Commands[2].Stderr)))
}

// TestPipelineCanceled: cancelling ctx stops a running pipeline the same
// way, and the error says so.
func TestPipelineCanceled(t *testing.T) {
	mptest.CheckLeaks(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		res, err := subprocess.RunPipeline(ctx, [][]string{{"sh", "-c", "echo ready; exec sleep 30"}, {"cat"}}, &subprocess.Options{Stdout: subprocess.File(w)})
		if err == nil && res.ReturnCode() != -9 {
			err = fmt.Errorf("code %d", res.ReturnCode())
		}
		done <- err
	}()
	if line, err := bufio.NewReader(r).ReadString('\n'); line != "ready\n" {
		t.Fatalf("read %q, %v", line, err)
	}
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) || errors.Is(err, subprocess.ErrTimeout) || !strings.HasSuffix(err.Error(), "| [cat] canceled") {
		t.Errorf("err = %v, want the pipeline canceled", err)
	}
}

// TestPipelineGroup: a pipeline that may be stopped is one process group,
// led by its first command; one that may not stays in the parent's group
// (so that it can use the terminal), and with NewSession each command leads
// its own session.
func TestPipelineGroup(t *testing.T) {
	linuxOnly(t, "reading a shell's group in /proc/$$/stat")
	mptest.CheckLeaks(t)
	// Each command prints its process group id, then passes its input on.
	pgid := []string{"sh", "-c", "cut -d' ' -f5 /proc/$$/stat >&2; cat"}
	cmds := [][]string{pgid, pgid, pgid}
	groups := func(opts *subprocess.Options) (pgids []int) {
		t.Helper()
		opts.Stderr = subprocess.Pipe
		res, err := subprocess.RunPipeline(bg, cmds, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Commands {
			pgids = append(pgids, parsePid(t, string(c.Stderr)))
		}
		return pgids
	}
	timed := groups(&subprocess.Options{Timeout: time.Minute})
	if timed[0] == syscall.Getpgrp() || timed[1] != timed[0] || timed[2] != timed[0] {
		t.Errorf("with a timeout: groups %v, want one new group (ours is %d)", timed, syscall.Getpgrp())
	}
	plain := groups(&subprocess.Options{})
	if own := syscall.Getpgrp(); plain[0] != own || plain[1] != own || plain[2] != own {
		t.Errorf("without a timeout: groups %v, want ours, %d", plain, own)
	}
	sessions := groups(&subprocess.Options{Timeout: time.Minute, NewSession: true})
	if sessions[0] == sessions[1] || sessions[1] == sessions[2] {
		t.Errorf("NewSession: groups %v, want three", sessions)
	}
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
