package cluster_test

import (
	"context"
	"testing"

	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkPublish measures an acknowledged publish of 100 bytes to a
// file stream, with the default sync interval and with SyncAlways, with
// the engine in this process and in a child process.
func BenchmarkPublish(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    cluster.Options
	}{
		{"default", cluster.Options{}},
		{"sync-always", cluster.Options{SyncAlways: true}},
		{"process", cluster.Options{Process: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := bc.o
			o.Dir = b.TempDir()
			ctx := context.Background()
			c, err := cluster.Start(ctx, &o)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			js := c.JetStream()
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "B", Subjects: []string{"b"}, Storage: jetstream.FileStorage}); err != nil {
				b.Fatal(err)
			}
			msg := make([]byte, 100)
			for b.Loop() {
				if _, err := js.Publish(ctx, "b", msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
