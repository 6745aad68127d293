package cluster

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// identity is the NKey a key stands for. The engine knows only its public
// half; a client proves it holds the key by signing the engine's nonce,
// so the key itself never crosses the network (the same guarantee as the
// manager's HMAC challenge).
type identity struct {
	kp  nkeys.KeyPair
	pub string
}

// identityOf derives the user NKey of key for role ("client", "worker"):
// an Ed25519 seed of HMAC-SHA256(key, label).
func identityOf(key []byte, role string) identity {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("mp cluster nkey v1 " + role))
	kp, err := nkeys.FromRawSeed(nkeys.PrefixByteUser, mac.Sum(nil))
	if err != nil {
		panic("cluster: derive an nkey: " + err.Error()) // 32 bytes always make a seed
	}
	pub, err := kp.PublicKey()
	if err != nil {
		panic("cluster: derive an nkey: " + err.Error())
	}
	return identity{kp: kp, pub: pub}
}

// option is the client option that authenticates as id.
func (id identity) option() nats.Option {
	return nats.Nkey(id.pub, id.kp.Sign)
}
