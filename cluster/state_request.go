package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Requests to an engine that may die and come back. The reply to a
// request in flight when the engine's process dies is lost with it, so
// each attempt is bounded by attemptTimeout, and an attempt that got no
// answer is made again once the connection is back (nats.go reconnects by
// itself), until the caller's ctx ends or the engine has not answered for
// engineWait; then the error matches ErrEngine. Every operation made this
// way is one that is safe to repeat; see each caller for why.
const (
	attemptTimeout = 2 * time.Second
	engineWait     = 30 * time.Second
	// retryPace spaces attempts that the engine refused at once because
	// it is still starting (no responders).
	retryPace = 50 * time.Millisecond
)

// request calls do with a context bounded by attemptTimeout, again each
// time the engine did not answer, until it answers, ctx ends (the error
// matches ctx's error and ErrEngine) or limit passes without an answer
// (ErrEngine). The error of an attempt that got no answer is not kept
// matchable: it would claim a deadline the caller did not set.
func request[R any](ctx context.Context, nc *nats.Conn, limit time.Duration, do func(context.Context) (R, error)) (R, error) {
	var first time.Time
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		r, err := do(actx)
		cancel()
		if err == nil || !unanswered(err) {
			return r, err
		}
		if ctx.Err() != nil {
			return r, fmt.Errorf("%w (%v): %w", ErrEngine, err, ctx.Err())
		}
		if first.IsZero() {
			first = time.Now()
		}
		left := limit - time.Since(first)
		if left <= 0 {
			return r, fmt.Errorf("%w: no answer for %v (%v)", ErrEngine, limit, err)
		}
		if err := waitConnected(ctx, nc, left); err != nil {
			return r, err
		}
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
			select {
			case <-time.After(retryPace):
			case <-ctx.Done():
			}
		}
	}
}

// unanswered reports whether err is a request that the engine did not
// answer: its time ran out, or nothing was there to take it (an engine
// starting again).
func unanswered(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrNoHeartbeat)
}

// waitConnected waits until nc is connected, for at most limit (then the
// error matches ErrEngine) or until ctx ends (then it matches ctx's error
// and ErrEngine). A closed connection gives ErrClosed.
func waitConnected(ctx context.Context, nc *nats.Conn, limit time.Duration) error {
	ch := nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(ch)
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		switch nc.Status() {
		case nats.CONNECTED:
			return nil
		case nats.CLOSED:
			return ErrClosed
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("%w: not connected for %v", ErrEngine, limit)
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrEngine, ctx.Err())
		}
	}
}

// newMsgID returns a random message id, for the engine's duplicate
// detection: a message published again under the id it was stored with,
// within the stream's duplicate window (two minutes, the default, for
// queues and buckets alike), is not stored again.
func newMsgID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// kvStore is a key-value bucket whose reads and writes survive the
// engine's death: each is made again, as request says, once the engine is
// back. Writes are published to the bucket's stream directly, each with a
// message id of its own, so that repeating one is safe:
//
//   - an unconditional write (put, delete) repeated after it was in fact
//     stored is dropped by the engine as a duplicate, so it cannot
//     overwrite a newer write made meanwhile;
//   - a conditional write (by revision) is checked against the revision
//     before duplicates are, so when a repeated one is refused as a
//     conflict, the key's last write is read: if it carries this write's
//     id, the first attempt was stored and the write succeeded. (If
//     another write overtook it in the moment between the engine's return
//     and that read, the write is reported as a conflict, and a
//     read-modify-write applies its change again on top of what it read.)
type kvStore struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	stream jetstream.Stream // the bucket's stream, for a key's last write
}

// newKVStore returns kv as a kvStore.
func newKVStore(ctx context.Context, c *Cluster, kv jetstream.KeyValue) (kvStore, error) {
	stream, err := request(ctx, c.nc, engineWait, func(ctx context.Context) (jetstream.Stream, error) {
		return c.js.Stream(ctx, "KV_"+kv.Bucket())
	})
	if err != nil {
		return kvStore{}, err
	}
	return kvStore{nc: c.nc, js: c.js, kv: kv, stream: stream}, nil
}

// get returns key's entry, or an error matching jetstream.ErrKeyNotFound
// or jetstream.ErrKeyDeleted.
func (s kvStore) get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	return request(ctx, s.nc, engineWait, func(ctx context.Context) (jetstream.KeyValueEntry, error) {
		return s.kv.Get(ctx, key)
	})
}

// put writes data to key and returns its revision.
func (s kvStore) put(ctx context.Context, key string, data []byte) (uint64, error) {
	return s.write(ctx, newMsgID(), key, data, false, nil)
}

// update writes data to key if its last write is rev, or if rev is zero
// and key is not there (never written, or deleted), and returns the new
// revision; otherwise the error matches jetstream.ErrKeyExists.
func (s kvStore) update(ctx context.Context, key string, data []byte, rev uint64) (uint64, error) {
	return s.write(ctx, newMsgID(), key, data, false, &rev)
}

// delete deletes key, if its last write is *rev when rev is not nil.
func (s kvStore) delete(ctx context.Context, key string, rev *uint64) error {
	_, err := s.write(ctx, newMsgID(), key, nil, true, rev)
	return err
}

// write publishes one write under id, made again as request says.
func (s kvStore) write(ctx context.Context, id, key string, data []byte, del bool, rev *uint64) (uint64, error) {
	var expect uint64
	if rev != nil {
		expect = *rev
	}
	return request(ctx, s.nc, engineWait, func(ctx context.Context) (uint64, error) {
		m := nats.NewMsg("$KV." + s.kv.Bucket() + "." + key)
		m.Data = data
		m.Header.Set(jetstream.MsgIDHeader, id)
		if del {
			m.Header.Set(kvOpHeader, "DEL")
		}
		if rev != nil {
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expect, 10))
		}
		ack, err := s.js.PublishMsg(ctx, m)
		if err == nil {
			return ack.Sequence, nil
		}
		if rev == nil || !isWrongLastSeq(err) {
			return 0, err
		}
		last, lerr := s.stream.GetLastMsgForSubject(ctx, m.Subject)
		if errors.Is(lerr, jetstream.ErrMsgNotFound) {
			return 0, fmt.Errorf("%w: %w", jetstream.ErrKeyExists, err)
		}
		if lerr != nil {
			return 0, lerr
		}
		switch {
		case last.Header.Get(jetstream.MsgIDHeader) == id:
			return last.Sequence, nil // an earlier attempt was stored
		case *rev == 0 && expect == 0 && isDeleteMarker(last):
			// A deleted key is not there: write over its marker.
			expect = last.Sequence
			return 0, errRetryNow
		}
		return 0, fmt.Errorf("%w: %w", jetstream.ErrKeyExists, err)
	})
}

// kvOpHeader marks a bucket's delete and purge markers.
const kvOpHeader = "KV-Operation"

// errRetryNow makes request try again at once: a create found a delete
// marker and writes over it.
var errRetryNow = fmt.Errorf("retry now: %w", nats.ErrTimeout)

func isDeleteMarker(m *jetstream.RawStreamMsg) bool {
	op := m.Header.Get(kvOpHeader)
	return op == "DEL" || op == "PURGE"
}

// isWrongLastSeq reports whether err is a write refused because the
// subject's last sequence was not the one expected.
func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
