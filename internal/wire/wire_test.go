package wire_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
	"github.com/mpgo/mp/mptest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { mptest.Main(m) }

func init() { wire.RegisterHandle(reflect.TypeFor[*fileHandle]()) }

const testTag = wire.TagBase + 0x7f

// fileHandle is a minimal handle: an open file that travels by descriptor.
type fileHandle struct {
	f    *os.File
	Name string
}

func (h *fileHandle) MarshalCBOR() ([]byte, error) {
	return wire.MarshalHandle(testTag, []int{int(h.f.Fd())}, h.Name)
}

func (h *fileHandle) UnmarshalCBOR(data []byte) error {
	fds, err := wire.UnmarshalHandle(data, testTag, &h.Name)
	if err != nil {
		return err
	}
	if len(fds) != 1 {
		return errors.New("want one fd")
	}
	h.f = os.NewFile(uintptr(fds[0]), h.Name)
	return nil
}

type envelope struct {
	Label   string
	Handles []*fileHandle
	ByName  map[string]*fileHandle
	Count   int
}

func tempFile(t *testing.T, content string) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "h")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(content)
	return f
}

func TestHandlesInsideValues(t *testing.T) {
	mptest.CheckLeaks(t)
	a, b := tempFile(t, "alpha"), tempFile(t, "beta")
	in := envelope{Label: "x", Handles: []*fileHandle{{f: a, Name: "a"}}, ByName: map[string]*fileHandle{"b": {f: b, Name: "b"}}, Count: 3}
	data, fds, err := wire.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 2 {
		t.Fatalf("Marshal gave %d fds, want 2", len(fds))
	}
	a.Close()
	b.Close() // the message holds duplicates
	var out envelope
	if err := wire.Unmarshal(data, fds, &out); err != nil {
		t.Fatal(err)
	}
	defer out.Handles[0].f.Close()
	defer out.ByName["b"].f.Close()
	for name, h := range map[string]*fileHandle{"alpha": out.Handles[0], "beta": out.ByName["b"]} {
		got, err := io.ReadAll(io.NewSectionReader(h.f, 0, 100))
		if err != nil || string(got) != name {
			t.Errorf("handle reads %q, %v; want %q", got, err, name)
		}
	}
	if out.Label != "x" || out.Count != 3 {
		t.Errorf("plain fields = %q, %d", out.Label, out.Count)
	}
}

func TestUnclaimedHandleIsAnErrorAndClosed(t *testing.T) {
	mptest.CheckLeaks(t)
	f := tempFile(t, "z")
	defer f.Close()
	data, fds, err := wire.Marshal(envelope{Handles: []*fileHandle{{f: f, Name: "z"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Label string } // no field for the handles
	err = wire.Unmarshal(data, fds, &out)
	if !errors.Is(err, errs.ErrProtocol) {
		t.Fatalf("Unmarshal = %v, want ErrProtocol", err)
	}
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			t.Errorf("fd %d still open after an unclaimed handle", fd)
		}
	}
}

func TestHandleOutsideMPFails(t *testing.T) {
	f := tempFile(t, "z")
	defer f.Close()
	if _, err := cbor.Marshal(&fileHandle{f: f}); err == nil {
		t.Fatal("cbor.Marshal of a handle outside wire.Marshal succeeded")
	}
}

func TestPlainValues(t *testing.T) {
	type point struct {
		X, Y int
		Tags []string
	}
	in := []point{{1, 2, []string{"a"}}, {-3, 4, nil}}
	data, fds, err := wire.Marshal(in)
	if err != nil || fds != nil {
		t.Fatalf("Marshal = %v, %v", fds, err)
	}
	var out []point
	if err := wire.Unmarshal(data, nil, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[1].X != -3 || out[0].Tags[0] != "a" {
		t.Errorf("round trip = %+v", out)
	}
	var anyOut any
	if err := wire.Unmarshal(data, nil, &anyOut); err != nil {
		t.Fatal(err)
	}
}

func TestHostileBytes(t *testing.T) {
	cases := map[string][]byte{
		"huge array claim": {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"huge bytes claim": {0x5b, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00},
		"indefinite":       {0x9f, 0x01, 0xff},
		"deep nesting":     bytes.Repeat([]byte{0x81}, 10000),
		"truncated":        {0x82, 0x01},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var v any
			if err := wire.Unmarshal(data, nil, &v); !errors.Is(err, errs.ErrProtocol) {
				t.Errorf("Unmarshal = %v, want ErrProtocol", err)
			}
		})
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	msgs := [][]byte{[]byte("one"), {}, bytes.Repeat([]byte{7}, 10000)}
	for _, m := range msgs {
		if err := wire.WriteFrame(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	fr := wire.NewFrameReader(&buf, 0)
	for _, want := range msgs {
		got, err := fr.ReadFrame()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadFrame = %d bytes, %v; want %d", len(got), err, len(want))
		}
	}
	if _, err := fr.ReadFrame(); err != io.EOF {
		t.Errorf("ReadFrame at end = %v, want io.EOF", err)
	}
}

func TestFrameCapAndTruncation(t *testing.T) {
	fr := wire.NewFrameReader(bytes.NewReader([]byte{0, 0, 1, 0, 'x'}), 100)
	if _, err := fr.ReadFrame(); !errors.Is(err, errs.ErrTooLarge) || !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("oversized frame: %v, want ErrTooLarge and ErrProtocol", err)
	}
	fr = wire.NewFrameReader(bytes.NewReader([]byte{0, 0, 0, 5, 'x'}), 100)
	if _, err := fr.ReadFrame(); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated frame: %v, want io.ErrUnexpectedEOF", err)
	}
}
