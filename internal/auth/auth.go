// Package auth is the mutual handshake by which two processes that share a
// key prove it to each other before they exchange anything else: a
// manager's server and its clients, an mp.Listener and mp.Dial.
//
// Each side proves it knows the key by returning an HMAC-SHA256 of a fresh
// random nonce chosen by the other side; the key never crosses the wire.
//
//	server → client  hello:   magic(8) nonceS(32)
//	client → server  answer:  magic(8) nonceC(32) HMAC(key, "client" nonceS nonceC)
//	server → client  verdict: 0 HMAC(key, "server" nonceC nonceS id) id(8) pid(4)
//	                          or 1 when the client's HMAC is wrong (then close)
//
// The magic names the protocol that follows the handshake and its version,
// so that a client of one protocol never mistakes a server of another for
// its own. The MACs are compared in constant time, the labels keep one
// side's answer from being replayed as the other's, and the whole exchange
// runs under a deadline. All messages have fixed sizes, so parsing them
// cannot go wrong in interesting ways, and each is one write, so the
// handshake works over datagram sockets too.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

// magicLen is the length of a protocol's magic.
const magicLen = 8

const (
	nonceLen = 32
	macLen   = sha256.Size
	// helloLen, answerLen and verdictOKLen are the sizes of the three
	// messages; a refusal is one byte.
	helloLen      = magicLen + nonceLen
	answerLen     = magicLen + nonceLen + macLen
	verdictOKLen  = 1 + macLen + 8 + 4
	verdictOK     = 0
	verdictDenied = 1
)

// Timeout bounds a handshake unless a context or option gives a shorter
// bound.
const Timeout = 10 * time.Second

// Peer is what a client learns of the server it authenticated.
type Peer struct {
	ID  uint64 // the server's id, chosen by the server
	Pid int    // the server's process id
}

func mac(key []byte, label string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(label))
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func nonce() []byte {
	b := make([]byte, nonceLen)
	rand.Read(b)
	return b
}

func checkMagic(magic string) {
	if len(magic) != magicLen {
		panic(fmt.Sprintf("auth: magic %q is not %d bytes", magic, magicLen))
	}
}

// parseHello checks a hello and returns the server's nonce.
func parseHello(magic string, b []byte) ([]byte, error) {
	if len(b) != helloLen || string(b[:magicLen]) != magic {
		return nil, fmt.Errorf("%w: the peer does not speak this protocol, or another version of it", errs.ErrProtocol)
	}
	return b[magicLen:], nil
}

// parseAnswer checks a client's answer and returns its nonce and MAC.
func parseAnswer(magic string, b []byte) (nonceC, sum []byte, err error) {
	if len(b) != answerLen || string(b[:magicLen]) != magic {
		return nil, nil, fmt.Errorf("%w: malformed handshake answer", errs.ErrProtocol)
	}
	return b[magicLen : magicLen+nonceLen], b[magicLen+nonceLen:], nil
}

// verdict is the server's last handshake message, once parsed.
type verdict struct {
	sum []byte
	Peer
}

// parseVerdict checks the server's verdict: a refusal, or a well-formed
// acceptance (whose MAC the caller still has to check).
func parseVerdict(b []byte) (verdict, error) {
	if len(b) == 0 {
		return verdict{}, fmt.Errorf("%w: empty handshake verdict", errs.ErrProtocol)
	}
	switch {
	case b[0] == verdictDenied:
		return verdict{}, fmt.Errorf("%w: the server rejected this process's key", errs.ErrAuthentication)
	case b[0] != verdictOK || len(b) != verdictOKLen:
		return verdict{}, fmt.Errorf("%w: malformed handshake verdict", errs.ErrProtocol)
	}
	return verdict{
		sum: b[1 : 1+macLen],
		Peer: Peer{
			ID:  binary.BigEndian.Uint64(b[1+macLen:]),
			Pid: int(binary.BigEndian.Uint32(b[1+macLen+8:])),
		},
	}, nil
}

// ErrNotAdmitted is returned by Server when admit refused a client that
// knows the key: the server has no room for it, or it was displaced.
var ErrNotAdmitted = errors.New("mp: connection not admitted")

// Server authenticates a new connection under magic's protocol, telling
// the client the server's id and pid; it returns nil when the client knows
// key, and an error matching errs.ErrAuthentication when it does not.
// Bytes that do not start with magic are refused as soon as its length
// has arrived. admit, if not nil, is called once the client has proved it
// knows the key and before the server says so: if it returns false, the
// client is told nothing (the caller closes the connection, which the
// client sees before the verdict) and Server returns ErrNotAdmitted.
func Server(nc net.Conn, magic string, key []byte, id uint64, pid int, deadline time.Time, admit func() bool) error {
	checkMagic(magic)
	nc.SetDeadline(deadline)
	defer nc.SetDeadline(time.Time{})
	ns := nonce()
	if _, err := nc.Write(append([]byte(magic), ns...)); err != nil {
		return err
	}
	buf, err := readAnswer(nc, magic)
	if err != nil {
		return err
	}
	nc2, sum, err := parseAnswer(magic, buf)
	if err != nil {
		return err
	}
	if !hmac.Equal(sum, mac(key, "client", ns, nc2)) {
		nc.Write([]byte{verdictDenied})
		return fmt.Errorf("%w: the client does not know the key", errs.ErrAuthentication)
	}
	if admit != nil && !admit() {
		return ErrNotAdmitted
	}
	var tail [12]byte
	binary.BigEndian.PutUint64(tail[:8], id)
	binary.BigEndian.PutUint32(tail[8:], uint32(pid))
	out := append([]byte{verdictOK}, mac(key, "server", nc2, ns, tail[:8])...)
	_, err = nc.Write(append(out, tail[:]...))
	return err
}

// readAnswer reads a client's answer, refusing it as soon as what has
// arrived does not start as magic does: garbage is not waited on until the
// deadline. Each read asks for the whole rest, so that an answer sent as
// one datagram is read whole.
func readAnswer(nc net.Conn, magic string) ([]byte, error) {
	buf := make([]byte, answerLen)
	for got := 0; got < answerLen; {
		n, err := nc.Read(buf[got:])
		got += n
		if k := min(got, magicLen); string(buf[:k]) != magic[:k] {
			return nil, fmt.Errorf("%w: malformed handshake answer", errs.ErrProtocol)
		}
		if err == io.EOF && got > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && got < answerLen {
			return nil, fmt.Errorf("%w: reading the handshake answer: %w", errs.ErrProtocol, err)
		}
	}
	return buf, nil
}

// Retryable reports whether a client's handshake that failed with err may
// succeed if tried again on a new connection: the server closed or reset
// the connection before its verdict, as a server whose handshake budget is
// full does to the oldest handshake (see Gate). A refused key, another
// protocol or an ended context are not retryable.
func Retryable(err error) bool {
	if errors.Is(err, errs.ErrAuthentication) || errors.Is(err, errs.ErrProtocol) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ClientContext authenticates the server and this client to each other
// under magic's protocol and returns what the server said of itself. A
// server that does not know key, or refuses this client's, gives an error
// matching errs.ErrAuthentication. The handshake ends when ctx does, or
// after Timeout; an error because ctx ended matches ctx's error.
func ClientContext(ctx context.Context, nc net.Conn, magic string, key []byte) (Peer, error) {
	checkMagic(magic)
	deadline := time.Now().Add(Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nc.SetDeadline(deadline)
	defer nc.SetDeadline(time.Time{})
	// Set after the deadline above, so that an ended ctx is never undone.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	p, err := client(nc, magic, key)
	if err == nil {
		return p, nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return p, fmt.Errorf("%w: %w", cerr, err)
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) { // the socket's deadline came first
		return p, fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return p, err
}

func client(nc net.Conn, magic string, key []byte) (Peer, error) {
	buf := make([]byte, helloLen)
	if _, err := io.ReadFull(nc, buf); err != nil {
		return Peer{}, fmt.Errorf("reading the handshake hello: %w", err)
	}
	ns, err := parseHello(magic, buf)
	if err != nil {
		return Peer{}, err
	}
	nc2 := nonce()
	answer := append(append([]byte(magic), nc2...), mac(key, "client", ns, nc2)...)
	if _, err := nc.Write(answer); err != nil {
		return Peer{}, err
	}
	return readVerdict(nc, key, ns, nc2)
}

func readVerdict(nc net.Conn, key, ns, nc2 []byte) (Peer, error) {
	buf := make([]byte, verdictOKLen)
	n, err := io.ReadFull(nc, buf)
	if n > 0 && buf[0] == verdictDenied {
		_, err := parseVerdict(buf[:1])
		return Peer{}, err
	}
	if err != nil {
		return Peer{}, fmt.Errorf("reading the handshake verdict: %w", err)
	}
	v, err := parseVerdict(buf)
	if err != nil {
		return Peer{}, err
	}
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], v.ID)
	if !hmac.Equal(v.sum, mac(key, "server", nc2, ns, id[:])) {
		return Peer{}, fmt.Errorf("%w: the server does not know this process's key", errs.ErrAuthentication)
	}
	return v.Peer, nil
}

// CheckAddr refuses to listen on a, unless the key was chosen explicitly,
// when a is a TCP address that other machines reach: the default key is
// meant for one program and its children, and a stranger on the network
// must not be able to try it. It returns an error matching errs.ErrInsecure
// for such an address, and nil for a loopback or Unix address, or an
// explicit key.
func CheckAddr(a net.Addr, explicitKey bool) error {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || explicitKey || tcp.IP.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %s is reachable from other machines, and the default key is meant for this program and its children; choose a key and give it to the clients", errs.ErrInsecure, tcp)
}

// RetryFor bounds how long a client keeps trying connections that a server
// resets before its verdict.
const RetryFor = 2 * time.Second

// Retry paces a client's attempts to connect to a server that resets
// connections in their handshake when too many are under way (see Gate):
// the first retry comes at once, the next after 1, 2, 4… ms, at most
// maxPause apart, for RetryFor in all. The zero value is ready for use.
type Retry struct {
	start time.Time
	tries int
}

// maxPause is the longest pause between two attempts.
const maxPause = 32 * time.Millisecond

// Again reports whether an attempt that failed with err should be made
// again, after waiting its turn: only for an error Retryable allows, while
// ctx lasts and RetryFor has not passed since the first failure.
func (r *Retry) Again(ctx context.Context, err error) bool {
	if !Retryable(err) {
		return false
	}
	if r.start.IsZero() {
		r.start = time.Now()
	}
	r.tries++
	if time.Since(r.start) > RetryFor {
		return false
	}
	if r.tries == 1 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(min(maxPause, time.Millisecond<<min(r.tries-2, 10)))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
