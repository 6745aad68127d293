package manager

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/mpgo/mp"
)

// The handshake authenticates both sides to each other with the shared key,
// without sending it: each side proves it knows the key by returning an
// HMAC-SHA256 of a fresh random nonce chosen by the other side.
//
//	server → client  hello:   magic(8) nonceS(32)
//	client → server  answer:  magic(8) nonceC(32) HMAC(key, "client" nonceS nonceC)
//	server → client  verdict: 0 HMAC(key, "server" nonceC nonceS id) id(8) pid(4)
//	                          or 1 when the client's HMAC is wrong (then close)
//
// The MACs are compared in constant time, the labels keep one side's answer
// from being replayed as the other's, and the whole exchange runs under a
// deadline. All messages have fixed sizes, so parsing them cannot go wrong
// in interesting ways.
const (
	nonceLen      = 32
	macLen        = sha256.Size
	helloLen      = len(magic) + nonceLen
	answerLen     = len(magic) + nonceLen + macLen
	verdictOKLen  = 1 + macLen + 8 + 4
	verdictOK     = 0
	verdictDenied = 1
)

// magic names the protocol and its version.
const magic = "mpmgr\x00\x00\x01"

// HandshakeTimeout bounds the handshake on both sides unless a context or
// option gives a shorter bound.
const HandshakeTimeout = 10 * time.Second

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

// parseHello checks a hello and returns the server's nonce.
func parseHello(b []byte) ([]byte, error) {
	if len(b) != helloLen || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not an mp manager, or another version of its protocol", mp.ErrProtocol)
	}
	return b[len(magic):], nil
}

// parseAnswer checks a client's answer and returns its nonce and MAC.
func parseAnswer(b []byte) (nonceC, sum []byte, err error) {
	if len(b) != answerLen || string(b[:len(magic)]) != magic {
		return nil, nil, fmt.Errorf("%w: malformed handshake answer", mp.ErrProtocol)
	}
	return b[len(magic) : len(magic)+nonceLen], b[len(magic)+nonceLen:], nil
}

// verdict is the server's last handshake message, once parsed.
type verdict struct {
	sum []byte
	id  uint64
	pid int
}

// parseVerdict checks the server's verdict: a refusal, or its MAC, id and pid.
func parseVerdict(b []byte) (verdict, error) {
	if len(b) == 0 {
		return verdict{}, fmt.Errorf("%w: empty handshake verdict", mp.ErrProtocol)
	}
	switch {
	case b[0] == verdictDenied:
		return verdict{}, fmt.Errorf("%w: the server rejected this process's key", ErrAuthentication)
	case b[0] != verdictOK || len(b) != verdictOKLen:
		return verdict{}, fmt.Errorf("%w: malformed handshake verdict", mp.ErrProtocol)
	}
	return verdict{
		sum: b[1 : 1+macLen],
		id:  binary.BigEndian.Uint64(b[1+macLen:]),
		pid: int(binary.BigEndian.Uint32(b[1+macLen+8:])),
	}, nil
}

// serverHandshake authenticates a new connection; it returns nil when the
// client knows key.
func serverHandshake(nc net.Conn, key []byte, id uint64, pid int, deadline time.Time) error {
	nc.SetDeadline(deadline)
	defer nc.SetDeadline(time.Time{})
	ns := nonce()
	if _, err := nc.Write(append([]byte(magic), ns...)); err != nil {
		return err
	}
	buf := make([]byte, answerLen)
	if _, err := io.ReadFull(nc, buf); err != nil {
		return fmt.Errorf("%w: reading the handshake answer: %w", mp.ErrProtocol, err)
	}
	nc2, sum, err := parseAnswer(buf)
	if err != nil {
		return err
	}
	if !hmac.Equal(sum, mac(key, "client", ns, nc2)) {
		nc.Write([]byte{verdictDenied})
		return ErrAuthentication
	}
	var tail [12]byte
	binary.BigEndian.PutUint64(tail[:8], id)
	binary.BigEndian.PutUint32(tail[8:], uint32(pid))
	out := append([]byte{verdictOK}, mac(key, "server", nc2, ns, tail[:8])...)
	_, err = nc.Write(append(out, tail[:]...))
	return err
}

// clientHandshake authenticates the server and this client to each other
// and returns the server's id and pid.
func clientHandshake(nc net.Conn, key []byte, deadline time.Time) (verdict, error) {
	nc.SetDeadline(deadline)
	defer nc.SetDeadline(time.Time{})
	buf := make([]byte, helloLen)
	if _, err := io.ReadFull(nc, buf); err != nil {
		return verdict{}, fmt.Errorf("reading the handshake hello: %w", err)
	}
	ns, err := parseHello(buf)
	if err != nil {
		return verdict{}, err
	}
	nc2 := nonce()
	answer := append(append([]byte(magic), nc2...), mac(key, "client", ns, nc2)...)
	if _, err := nc.Write(answer); err != nil {
		return verdict{}, err
	}
	return readVerdict(nc, key, ns, nc2)
}

func readVerdict(nc net.Conn, key, ns, nc2 []byte) (verdict, error) {
	buf := make([]byte, verdictOKLen)
	n, err := io.ReadFull(nc, buf)
	if n > 0 && buf[0] == verdictDenied {
		return parseVerdict(buf[:1])
	}
	if err != nil {
		return verdict{}, fmt.Errorf("reading the handshake verdict: %w", err)
	}
	v, err := parseVerdict(buf)
	if err != nil {
		return verdict{}, err
	}
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], v.id)
	if !hmac.Equal(v.sum, mac(key, "server", nc2, ns, id[:])) {
		return verdict{}, fmt.Errorf("%w: the server does not know this process's key", ErrAuthentication)
	}
	return v, nil
}
