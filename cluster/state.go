package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/wire"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names on the engine. Every shared object is named by its kind and the
// user's name, escaped by escapeName so that any string gives a valid
// stream, bucket, subject and key, and two names never give the same one.
// All of it starts with MP_ (streams, buckets) or mp. (subjects), and none
// of it with MP_POOL or mp.pool, which the Pool uses.
const (
	// queueStreamPrefix + name is a queue's work-queue stream.
	queueStreamPrefix = "MP_Q_"
	// queueSubjectPrefix + name is the subject its items are put on.
	queueSubjectPrefix = "mp.q."
	// queueAckedPrefix + name carries a hint, on core NATS, after every
	// item a getter acknowledges: waiting Puts and Waits look again.
	queueAckedPrefix = "mp.qacked."
	// queueConsumer is the durable consumer every getter of a queue shares.
	queueConsumer = "get"
	// dictBucketPrefix + name is a Dict's key-value bucket.
	dictBucketPrefix = "MP_D_"
	// namespaceBucketPrefix + name is a Namespace's key-value bucket.
	namespaceBucketPrefix = "MP_NS_"
	// stateBucket holds the small objects, one key each (kind.name):
	// values, locks, events, semaphores.
	stateBucket = "MP_STATE"
	// maxNameLen bounds an escaped name: stream names may not exceed 255
	// bytes, and a bucket's stream adds a prefix.
	maxNameLen = 200
)

// escapeName returns name with every byte that is not an ASCII letter,
// digit or '-' written as _XX (its hex value); '_' itself is escaped, so
// the mapping is one to one. It panics on an empty name or one too long
// once escaped: names are chosen by the program, not read from the wire.
func escapeName(kind, name string) string {
	if name == "" {
		panic("cluster: " + kind + " with an empty name")
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	if b.Len() > maxNameLen {
		panic(fmt.Sprintf("cluster: %s name %q is too long: at most %d bytes once escaped", kind, name, maxNameLen))
	}
	return b.String()
}

// encodeKey turns a user's key into a valid key-value key: the base64url
// text of its encoding, so that equal keys give equal strings.
func encodeKey(k any) (string, error) {
	data, err := encode(k)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(data), nil
}

// decodeKey is the inverse of encodeKey.
func decodeKey(s string, k any) error {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%w: key %q is not one of mp's", mp.ErrProtocol, s)
	}
	return decode(data, k)
}

// encode encodes v with mp's codec. A value the codec would not carry
// whole gives an error matching mp.ErrUnencodable; one holding handles
// (descriptors), which cannot leave the machine, mp.ErrHandles.
func encode(v any) ([]byte, error) {
	data, fds, err := wire.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cluster: encode %T: %w", v, err)
	}
	if len(fds) > 0 {
		closeFDs(fds)
		return nil, fmt.Errorf("cluster: encode %T: %w", v, mp.ErrHandles)
	}
	return data, nil
}

// decode decodes data into the value v points to. Errors match
// mp.ErrProtocol.
func decode(data []byte, v any) error {
	if err := wire.Unmarshal(data, nil, v); err != nil {
		return fmt.Errorf("cluster: decode into %T: %w", v, err)
	}
	return nil
}

// checkType panics if values of T would lose data between processes, as
// the core's queue constructors do.
func checkType[T any](what string) {
	if err := wire.Check(reflect.TypeFor[T]()); err != nil {
		var te *wire.TypeError
		if errors.As(err, &te) {
			panic("cluster: " + what + ": " + te.Describe())
		}
		panic("cluster: " + what + ": " + err.Error())
	}
}

// engineError says what failed, keeping err matchable; a closed
// connection becomes ErrClosed.
func engineError(what string, err error) error {
	if isClosed(err) {
		return fmt.Errorf("cluster: %s: %w", what, ErrClosed)
	}
	return fmt.Errorf("cluster: %s: %w", what, err)
}

// openBucket opens the key-value bucket named bucket, making it if it is
// not there. A bucket that exists is opened as it is, so an attempt is
// safe to make again.
func openBucket(ctx context.Context, c *Cluster, bucket string) (jetstream.KeyValue, error) {
	kv, err := request(ctx, c.nc, engineWait, func(ctx context.Context) (jetstream.KeyValue, error) {
		kv, err := c.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:  bucket,
			History: 1,
			Storage: jetstream.FileStorage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = c.js.KeyValue(ctx, bucket)
		}
		return kv, err
	})
	if err != nil {
		return nil, engineError("open bucket "+bucket, err)
	}
	return kv, nil
}

// stateKey is the key of the object of kind named name in stateBucket.
func stateKey(kind, name string) string {
	return kind + "." + escapeName(kind, name)
}

// isConflict reports whether err is a revision conflict: a write that
// expected a revision of a key (or its absence) found another.
func isConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// isClosed reports whether err comes from a closed connection.
func isClosed(err error) bool {
	return errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, jetstream.ErrConnectionClosed) || errors.Is(err, ErrClosed)
}

// isAbsent reports whether err is a key-value Get finding no value.
func isAbsent(err error) bool {
	return errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}
