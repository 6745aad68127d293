package chaos_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/mpgo/mp/chaos"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// TestChaos runs every experiment in the short mode (MP_CHAOS=short) or the
// long one (MP_CHAOS=long) and fails on any count that is not what it must
// be: nothing lost, duplicated, wrong, leaked or left alive, ErrOwnerDead
// once per kill. Latencies are printed, not checked.
func TestChaos(t *testing.T) {
	mode := os.Getenv("MP_CHAOS")
	if mode != "short" && mode != "long" {
		t.Skip("the chaos experiments run with MP_CHAOS=short (about two minutes) or MP_CHAOS=long: " +
			"MP_CHAOS=short go test -count=1 -v -run TestChaos ./chaos/")
	}
	mptest.CheckLeaks(t)
	cfg := chaos.Config{Long: mode == "long", Logf: t.Logf}
	rows := chaos.RunAll(context.Background(), cfg, chaos.Experiments())
	var b strings.Builder
	if err := chaos.WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", b.String())
	for i := range rows {
		for _, f := range rows[i].Failures() {
			t.Errorf("%s: %s", rows[i].Name, f)
		}
	}
}
