package chaos

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/manager"
)

// The sizes of the handshake's first two messages (see the manager's
// package documentation): the server's hello is a magic of 8 bytes and a
// nonce of 32, the client's answer a magic, a nonce and an HMAC-SHA256.
const (
	helloLen  = 8 + 32
	answerLen = 8 + 32 + 32
)

// ManagerHostile starts a manager on TCP with a key and attacks it without
// the key: garbage of 0 to 1 MiB, truncated answers, answers followed by
// oversized frames, a keyed client's recorded handshake replayed, the
// server's own hello reflected back to it; then a flood of connections
// that hold a handshake open (idle, writing slowly, writing garbage) or
// open and close at once, while a keyed client connects again and again
// (for 3 s in the short mode, 30 s in the long one: longer than the
// server's handshake timeout).
// It counts the attacks the server let past the handshake and the keyed
// client's failures, and reports the keyed client's latency and the
// server's memory.
func ManagerHostile(ctx context.Context, cfg Config) (r Row) {
	key := make([]byte, 32)
	rand.Read(key)
	m, err := manager.Start(ctx, &manager.Options{Address: "127.0.0.1:0", AuthKey: key})
	if err != nil {
		r.fail("manager.Start: %v", err)
		return r
	}
	defer func() {
		m.Shutdown(ctx)
		m.Close()
	}()
	pid, err := m.Ping(ctx)
	if err != nil {
		r.fail("Ping: %v", err)
		return r
	}
	rss0 := rssKiB(pid)
	replay, err := recordHandshake(ctx, m.Addr(), key)
	if err != nil {
		r.fail("recording a handshake: %v", err)
		return r
	}
	n := cfg.pick(1, 10)
	attacks := []struct {
		name  string
		count int
		make  func(hello, other []byte) []byte
	}{
		{"garbage", 50 * n, garbage},
		{"truncated", 25 * n, truncated},
		{"oversized", 25 * n, oversized},
		{"replayed", 100 * n, func(_, _ []byte) []byte { return replay }},
		{"reflected", 100 * n, reflected},
	}
	past, refused, total := 0, 0, 0
	for _, a := range attacks {
		p, f := attack(ctx, m.Addr(), a.count, a.make)
		past += p
		refused += f
		total += a.count
	}
	r.count("payloads", total)
	r.expect("pastAuth", past, 0)
	r.count("refused", refused)
	r.count("noVerdict", total-past-refused)
	fl := flood(ctx, m.Addr(), key, pid, cfg.pick(1100, 1100), cfg.pick(20, 200), time.Duration(cfg.pick(3, 30))*time.Second)
	r.count("flood", fl.attempts)
	r.expect("keyedFailures", fl.failures, 0)
	r.expect("floodPastAuth", fl.past, 0)
	if len(fl.latency) > 0 {
		r.figure("keyedP50", "%v", percentile(fl.latency, 50).Round(time.Microsecond))
		r.figure("keyedP99", "%v", percentile(fl.latency, 99).Round(time.Microsecond))
		r.goal("keyedP99", percentile(fl.latency, 99), 100*time.Millisecond)
	}
	r.figure("floodRate", "%.0f/s", fl.rate)
	r.figure("serverRSS", "%d→%dKiB", rss0, fl.rss)
	r.figure("serverPeakRSS", "%dKiB", peakRSSKiB(pid))
	if fl.firstErr != nil {
		r.figure("firstKeyedError", "%q", fl.firstErr.Error())
	}
	return r
}

// recordHandshake connects a keyed client through a relay that records
// what the client sends: its answer to a hello, and a request.
func recordHandshake(ctx context.Context, addr string, key []byte) ([]byte, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	recorded := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			recorded <- nil
			return
		}
		defer c.Close()
		s, err := net.Dial("tcp", addr)
		if err != nil {
			recorded <- nil
			return
		}
		defer s.Close()
		go io.Copy(c, s)
		var rec recorder
		io.Copy(io.MultiWriter(s, &rec), c)
		recorded <- rec.b
	}()
	cl, err := manager.Dial(ctx, ln.Addr().String(), &manager.DialOptions{AuthKey: key})
	if err != nil {
		return nil, err
	}
	_, err = cl.Ping(ctx)
	cl.Close()
	b := <-recorded
	if err == nil && len(b) < answerLen {
		err = errors.New("the relay recorded no handshake")
	}
	return b, err
}

type recorder struct{ b []byte }

func (r *recorder) Write(p []byte) (int, error) {
	r.b = append(r.b, p...)
	return len(p), nil
}

// attack sends count payloads, each on a connection of its own after the
// server's hello, eight connections at a time. It returns how many the
// server accepted (a verdict byte of 0) and how many it refused (a
// verdict of 1, or a closed connection).
func attack(ctx context.Context, addr string, count int, payload func(hello, other []byte) []byte) (past, refused int) {
	var p, f atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for next.Add(1) <= int64(count) && ctx.Err() == nil {
				switch hostile(addr, payload) {
				case 0:
					p.Add(1)
				case 1:
					f.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(p.Load()), int(f.Load())
}

// hostile makes one attack: 0 if the server let it past the handshake, 1
// if it refused it, 2 if it did neither within 30 s.
func hostile(addr string, payload func(hello, other []byte) []byte) int {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 2
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	hello := make([]byte, helloLen)
	if _, err := io.ReadFull(c, hello); err != nil {
		return 1 // closed before its hello: refused
	}
	other := make([]byte, helloLen)
	if o, err := net.DialTimeout("tcp", addr, 10*time.Second); err == nil {
		o.SetDeadline(time.Now().Add(10 * time.Second))
		io.ReadFull(o, other)
		o.Close()
	}
	c.Write(payload(hello, other)) // the server may close before it all arrives
	c.(*net.TCPConn).CloseWrite()
	verdict := make([]byte, 1)
	_, err = io.ReadFull(c, verdict)
	switch {
	case err == nil && verdict[0] == 0:
		return 0
	case err == nil, errors.Is(err, io.EOF), !isTimeout(err):
		return 1
	}
	return 2
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// garbage is 0 to 1 MiB of random bytes.
func garbage(_, _ []byte) []byte {
	return randomBytes(mrand.IntN(1<<20 + 1))
}

// truncated is the start of an answer with the right magic.
func truncated(hello, _ []byte) []byte {
	b := append(hello[:8:8], randomBytes(answerLen-8)...)
	return b[:mrand.IntN(answerLen)]
}

// oversized is a well-formed answer with a wrong HMAC, followed by a frame
// that claims to be huge.
func oversized(hello, _ []byte) []byte {
	b := append(hello[:8:8], randomBytes(answerLen-8)...)
	b = binary.BigEndian.AppendUint32(b, 0xFFFFFFF0)
	b = binary.LittleEndian.AppendUint64(b, 1<<62)
	return append(b, randomBytes(64<<10)...)
}

// reflected sends the server its own hello, then the hello of another of
// its connections, as an answer.
func reflected(hello, other []byte) []byte {
	b := append(hello[:helloLen:helloLen], other[8:]...)
	return b[:answerLen]
}
