package cluster_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go/jetstream"
)

// Start runs an engine; another process (here, another connection)
// reaches it by its URL with the same key, which mp's child processes
// inherit.
func ExampleStart() {
	dir, err := os.MkdirTemp("", "engine")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := cluster.Start(ctx, &cluster.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	js := c.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "GREETINGS", Subjects: []string{"greeting"}}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := js.Publish(ctx, "greeting", []byte("hello")); err != nil {
		fmt.Println(err)
		return
	}

	other, err := cluster.Connect(ctx, c.URL(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer other.Close()
	s, err := other.JetStream().Stream(ctx, "GREETINGS")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := s.GetLastMsgForSubject(ctx, "greeting")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(m.Data))
	// Output: hello
}

// With Process, the engine runs in a child process, which is started
// again on the same store and port if it dies.
func ExampleStart_process() {
	dir, err := os.MkdirTemp("", "engine")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := cluster.Start(ctx, &cluster.Options{Dir: dir, Process: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	info, err := c.JetStream().AccountInfo(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("streams:", info.Streams)
	fmt.Println("close:", c.Close())
	// Output:
	// streams: 0
	// close: <nil>
}
