package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/subprocess"
)

// escapes are shell scripts whose descendants try to outlive a timeout:
// a background job, a double fork, and a new session (which leaves the
// process group).
var escapes = []struct{ name, script string }{
	{"background", "sleep 100 & sleep 100"},
	{"doubleFork", "( ( sleep 100 & ) & ) ; sleep 100"},
	{"setsid", "( setsid sleep 100 & ) ; sleep 100"},
}

// SubprocessEscape runs each escaping script with subprocess.Run, Shell and
// a Timeout of 200 ms, and counts the processes of the run still alive a
// second after Run returned (then kills them), with the default Options:
// whatever containment they give is what is measured.
func SubprocessEscape(ctx context.Context, cfg Config) (r Row) {
	runs := cfg.pick(5, 50)
	for _, e := range escapes {
		var worst time.Duration
		left := 0
		for range runs {
			d, l, err := escapeOnce(ctx, e.script)
			if err != nil {
				r.fail("%s: %v", e.name, err)
				return r
			}
			worst = max(worst, d)
			left += l
		}
		r.expect(e.name+"Left", left, 0)
		r.figure(e.name+"MaxReturn", "%v", worst.Round(time.Millisecond))
	}
	r.count("runsEach", runs)
	return r
}

// escapeOnce runs script once and returns how long Run took and how many
// processes it left.
func escapeOnce(ctx context.Context, script string) (time.Duration, int, error) {
	tag := make([]byte, 8)
	rand.Read(tag)
	mark := "MPCHAOS_RUN=" + hex.EncodeToString(tag)
	start := time.Now()
	_, err := subprocess.Run(ctx, []string{script}, &subprocess.Options{
		Shell:    true,
		Timeout:  200 * time.Millisecond,
		ExtraEnv: []string{mark},
		Stdin:    subprocess.DevNull,
		Stdout:   subprocess.DevNull,
		Stderr:   subprocess.DevNull,
	})
	d := time.Since(start)
	var te *subprocess.TimeoutExpired
	if !errors.As(err, &te) {
		return d, 0, errors.New("Run did not time out: " + errString(err))
	}
	w := watchProcesses(marked(mark))
	defer w.close()
	// Give a SIGKILL sent to the run's group the time to take effect.
	gctx, cancel := context.WithTimeout(ctx, time.Second)
	left := w.waitGone(gctx)
	cancel()
	w.kill()
	return d, left, nil
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// marked returns the live processes whose environment holds mark.
func marked(mark string) []int {
	pids, _ := procinfo.List()
	var out []int
	for _, pid := range pids {
		env, err := environ(pid)
		if err != nil || !bytes.Contains(env, []byte("\x00"+mark+"\x00")) && !bytes.HasPrefix(env, []byte(mark+"\x00")) {
			continue
		}
		if alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}
