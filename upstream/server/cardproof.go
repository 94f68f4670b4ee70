package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"mime"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// Proofs of a card authentication (issue 24). A proof is
// base64url(version | id | issued | tag): 16 random bytes, the issue time
// in Unix seconds, and a 16-byte HMAC (keyed from the age identity, like
// the storage) over those and the kiosk, the purpose, the card number and
// the ID number. So it holds no card data, it survives a restart, and it
// opens one call only: that kiosk's, for that purpose, with that card.
// Its use is recorded in the transaction of the call it opens.

const proofVersion = 1

// bucketProofs records used proofs: issued(8) | id(16) → nothing, so the
// oldest are purged from the front.
var bucketProofs = []byte("card_proofs")

// proofSize is a decoded proof's length.
const proofSize = 1 + 16 + 8 + 16

func (s *Server) proofTag(id []byte, issued int64, kioskName, purpose, card, idNumber string) []byte {
	var b bytes.Buffer
	b.WriteByte(proofVersion)
	b.Write(id)
	binary.Write(&b, binary.BigEndian, issued)
	for _, v := range []string{kioskName, purpose, card, idNumber} {
		b.WriteString(v)
		b.WriteByte(0)
	}
	return s.st.mac("card-auth-proof", b.String())[:16]
}

// issueProof makes the proof for a genuine card's exchange.
func (s *Server) issueProof(ex *exchange, now time.Time) (string, time.Time) {
	id := make([]byte, 16)
	rand.Read(id)
	issued := now.Unix()
	b := make([]byte, 0, proofSize)
	b = append(b, proofVersion)
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, uint64(issued))
	b = append(b, s.proofTag(id, issued, ex.kiosk, ex.purpose, ex.cardNumber, ex.idNumber)...)
	return base64.RawURLEncoding.EncodeToString(b), time.Unix(issued, 0).Add(upstream.CardAuthProofLifetime)
}

// proofFields are the parts of a call's body a proof is checked against.
type proofFields struct {
	CardNumber string `json:"card_number"`
	IDNumber   string `json:"id_number"`
	CardAuth   string `json:"card_auth"`
}

// checkProof checks the proof of a call that needs one (path in
// upstream.CardAuthPurposes) and records it used, in tx, the call's own
// transaction. It returns the refusal, or nil to go on. With card
// authentication off, nothing is checked.
func (s *Server) checkProof(tx *bolt.Tx, r *http.Request, path string, plain []byte) *answer {
	key, refusal := s.proofKey(r, path, plain)
	if refusal != nil || key == nil {
		return refusal
	}
	bk, err := tx.CreateBucketIfNotExists(bucketProofs)
	if err != nil {
		a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		return &a
	}
	if bk.Get(key) != nil {
		return refuseProof("the proof was used already")
	}
	if err := bk.Put(key, nil); err != nil {
		a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		return &a
	}
	purgeProofs(bk, s.o.Now())
	return nil
}

// peekProof is checkProof in a read transaction, without using the
// proof up: a call is refused before its costly work (a password compare
// or hash), after its field errors, when its proof would be refused in
// the transaction anyway. r nil (no request at hand) checks nothing.
func (s *Server) peekProof(r *http.Request, path string, plain []byte) *answer {
	if r == nil {
		return nil
	}
	key, refusal := s.proofKey(r, path, plain)
	if refusal != nil || key == nil {
		return refusal
	}
	var used bool
	s.st.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket(bucketProofs); bk != nil {
			used = bk.Get(key) != nil
		}
		return nil
	})
	if used {
		return refuseProof("the proof was used already")
	}
	return nil
}

func refuseProof(why string) *answer {
	a := apiErr(http.StatusForbidden, upstream.ErrCodeCardAuthInvalid, why+"; authenticate the card again")
	return &a
}

// proofKey checks a call's proof but for its use, and returns its key
// among the used ones (nil when the call needs no proof) or the refusal.
func (s *Server) proofKey(r *http.Request, path string, plain []byte) ([]byte, *answer) {
	purpose, ok := upstream.CardAuthPurposes[path]
	if !ok || s.cards.module == nil {
		return nil, nil
	}
	var v proofFields
	_ = json.Unmarshal(plain, &v) // the call's own decoding checks the body
	if v.CardAuth == "" {
		a := apiErr(http.StatusForbidden, upstream.ErrCodeCardAuthRequired, "authenticate the card first (POST "+upstream.PathCardAuth+") and send its proof as card_auth")
		return nil, &a
	}
	b, err := base64.RawURLEncoding.DecodeString(v.CardAuth)
	if err != nil || len(b) != proofSize || b[0] != proofVersion {
		return nil, refuseProof("the card authentication proof is not one of this upstream's")
	}
	id, issued, tag := b[1:17], int64(binary.BigEndian.Uint64(b[17:25])), b[25:]
	if !hmac.Equal(tag, s.proofTag(id, issued, kiosk(r), purpose, v.CardNumber, v.IDNumber)) {
		return nil, refuseProof("the proof is another kiosk's, purpose's or card's")
	}
	life := upstream.CardAuthProofLifetime
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == upstream.ContentAgeJSON {
		life = upstream.CardAuthQueuedProofLifetime // a registration from a kiosk's outbox
	}
	at, now := time.Unix(issued, 0), s.o.Now()
	if at.After(now.Add(time.Minute)) || now.After(at.Add(life)) {
		return nil, refuseProof("the proof has expired")
	}
	return append(binary.BigEndian.AppendUint64(nil, uint64(issued)), id...), nil
}

// purgeProofs forgets a few used proofs too old to be presented again.
func purgeProofs(bk *bolt.Bucket, now time.Time) {
	cut := now.Add(-upstream.CardAuthQueuedProofLifetime - time.Minute).Unix()
	c := bk.Cursor()
	for range 32 {
		k, _ := c.First()
		if k == nil || len(k) < 8 || int64(binary.BigEndian.Uint64(k)) >= cut || c.Delete() != nil {
			return
		}
	}
}
