package logrelay

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestRecordsArriveWithTheirAttributes(t *testing.T) {
	var sent []Record
	l := slog.New(NewHandler(func(_ context.Context, r Record) error {
		sent = append(sent, r)
		return nil
	})).With("pid", 7)
	l.Warn("engine stopped", "err", "boom")
	l.Debug("quiet")
	if len(sent) != 2 {
		t.Fatalf("%d records sent, want 2 (the receiving logger filters levels)", len(sent))
	}
	var out bytes.Buffer
	to := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for i := range sent {
		sent[i].Log(to)
	}
	got := out.String()
	if !strings.Contains(got, `level=WARN msg="engine stopped" pid=7 err=boom`) || strings.Contains(got, "quiet") {
		t.Errorf("relayed log:\n%s", got)
	}
}
