package process

import (
	"slices"
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
)

func TestLogging(t *testing.T) {
	lines := examplestest.Run(t, "process-logging")
	// The records come in order; the stderr line travels apart from them.
	i := slices.Index(lines, "plain text on stderr still arrives, line by line")
	if i < 0 {
		t.Fatalf("stderr line missing:\n%q", lines)
	}
	lines = slices.Delete(lines, i, i+1)
	examplestest.Match(t, lines,
		"level=INFO msg=resizing pid=%C process=resizer file=cat.png width=640",
		`level=WARN msg="no colour profile, assuming sRGB" pid=%C process=resizer file=cat.png`)
}
