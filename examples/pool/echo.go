package pool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 60, Also: []int{61}, Topic: "pool", Name: "pool-socket-echo", Title: "a TCP server whose connections are served by pool workers, with its client (seed 61)", Run: socketEcho})
}

// talk serves one connection in a pool worker: the connection arrives as
// an mp.File, the way Python hands a socket to a worker by passing its
// descriptor. It echoes what it reads in upper case until the client
// closes.
var talk = mp.Register("examples.pool.talk", func(ctx context.Context, f mp.File) (struct{}, error) {
	conn, err := net.FileConn(f.File)
	f.Close()
	if err != nil {
		return struct{}{}, err
	}
	defer conn.Close()
	fmt.Printf("process pid: %d\n", os.Getpid())
	buf := make([]byte, 1024)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Println(err)
			}
			return struct{}{}, nil
		}
		if _, err := conn.Write(bytes.ToUpper(buf[:n])); err != nil {
			fmt.Println(err)
			return struct{}{}, nil
		}
	}
})

// socketEcho is seeds 60 and 61: the server listens on 127.0.0.1 (on a
// port the system picks, not 8080) and hands every accepted connection to
// a worker of a Pool(4); at most four clients are served at once. Two
// clients talk to it, each printing its prompt, what it sends and what
// comes back, and checking that the reply is its line in upper case.
func socketEcho(ctx context.Context, w io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p, err := mp.NewPool(mp.PoolOptions{Processes: 4, Stdout: w})
	if err != nil {
		ln.Close()
		return err
	}
	var served sync.WaitGroup
	served.Add(1)
	go func() {
		defer served.Done()
		serve(ctx, ln, p)
	}()
	err = errors.Join(client(ln.Addr().String(), "hello\nworld\n", w), client(ln.Addr().String(), "mp\npool workers\n", w))
	ln.Close()
	served.Wait()
	return errors.Join(err, closeWait(ctx, p))
}

// serve accepts connections until the listener closes (seed 60).
func serve(ctx context.Context, ln net.Listener, p *mp.Pool) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		f, err := conn.(*net.TCPConn).File()
		conn.Close()
		if err != nil {
			continue
		}
		mp.Submit(ctx, p, talk, mp.File{File: f})
		f.Close() // the worker has its own copy of the descriptor
	}
}

// client is seed 61, reading its lines from input instead of a terminal.
func client(addr, input string, w io.Writer) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	sc := bufio.NewScanner(strings.NewReader(input))
	buf := make([]byte, 1024)
	for sc.Scan() {
		msg := strings.TrimSpace(sc.Text())
		if msg == "" {
			continue
		}
		if _, err := conn.Write([]byte(msg)); err != nil {
			return err
		}
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, ">>%s\n%s\n", msg, buf[:n])
		if string(buf[:n]) != strings.ToUpper(msg) {
			return fmt.Errorf("sent %q, got %q back", msg, buf[:n])
		}
	}
	return nil
}
