package manager_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp/manager"
)

func BenchmarkDictSetLocalServer(b *testing.B) {
	ctx := context.Background()
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	ln, err := manager.Listen("@mp-manager-bench")
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() { cancel(); <-done }()
	c, err := manager.Dial(ctx, ln.Addr().String(), &manager.DialOptions{AuthKey: key})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	d, err := manager.NewDict[int, int](ctx, c, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Set(ctx, i%100, i); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDialUnderFlood measures how long a client with the key takes to
// connect to a server (in a process of its own) that one attacker floods
// with about 10 000 connections a second without the key — idle, writing a
// byte a second, or garbage — and with as many as it can open, from the
// client's address or from another. It
// reports the p50 and p99 of Dial, the attacker's rate, and the server's
// resident memory before the flood and at its peak. Run it with
// -benchtime=2000x or so.
func BenchmarkDialUnderFlood(b *testing.B) {
	b.Run("10000/s", func(b *testing.B) { benchmarkDialUnderFlood(b, "", 85*time.Microsecond) })
	b.Run("unpaced", func(b *testing.B) { benchmarkDialUnderFlood(b, "", 0) })
	b.Run("unpaced-other-address", func(b *testing.B) { benchmarkDialUnderFlood(b, "127.0.0.2", 0) })
}

// benchmarkDialUnderFlood is BenchmarkDialUnderFlood with an attacker at
// the IP address from ("": the client's), making an attempt every so often
// (zero: as fast as it can).
func benchmarkDialUnderFlood(b *testing.B, from string, every time.Duration) {
	ctx := context.Background()
	key := []byte("k")
	c, err := manager.Start(ctx, &manager.Options{Address: "127.0.0.1:0", AuthKey: key})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pid, err := c.Ping(ctx)
	if err != nil {
		b.Fatal(err)
	}
	rssBefore := rssKB(pid)
	f := startFlood(c.Addr(), from, 4000, every)
	began := time.Now()
	var peak atomic.Int64
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			peak.Store(max(peak.Load(), rssKB(pid)))
			select {
			case <-t.C:
			case <-stopSampling:
				return
			}
		}
	})
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		k, err := manager.Dial(dctx, c.Addr(), &manager.DialOptions{AuthKey: key})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		k.Close()
	}
	b.StopTimer()
	rate := float64(f.attempts.Load()) / time.Since(began).Seconds()
	f.stopFlood()
	close(stopSampling)
	sampler.Wait()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(rate, "attempts/s")
	b.ReportMetric(float64(rssBefore), "rss-before-kB")
	b.ReportMetric(float64(peak.Load()), "rss-peak-kB")
}

// rssKB returns the resident memory of process pid, in KiB, or 0 where
// /proc is missing: only Linux tells it of another process unprivileged.
func rssKB(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}
