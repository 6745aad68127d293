package cluster_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

func TestMain(m *testing.M) {
	cluster.Main()
	os.Exit(m.Run())
}

// start runs an engine in this process for one test, with its store in a
// temporary directory.
func start(t *testing.T, o *cluster.Options) *cluster.Cluster {
	t.Helper()
	if o == nil {
		o = &cluster.Options{}
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func TestStartAndConnect(t *testing.T) {
	c := start(t, &cluster.Options{Key: []byte("k1")})
	ctx := context.Background()
	other, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Key: []byte("k1")})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.JetStream().AccountInfo(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestConnectWrongKey(t *testing.T) {
	c := start(t, &cluster.Options{Key: []byte("right")})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, key := range [][]byte{[]byte("wrong"), nil} {
		_, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Key: key})
		if !errors.Is(err, cluster.ErrAuthentication) || !errors.Is(err, mp.ErrAuthentication) {
			t.Fatalf("key %q: got %v, want ErrAuthentication", key, err)
		}
	}
}
