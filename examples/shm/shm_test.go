package shm

import (
	"testing"

	"github.com/mpgo/mp/examples/examplestest"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

func TestValueArray(t *testing.T) {
	examplestest.Match(t, examplestest.Run(t, "42"), "3.1415927", "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]")
}
