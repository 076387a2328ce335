// Package secret owns jtbot's encryption at rest: the SECRET_KEY and the
// sealed form of what must never reach the database file in plain text
// (personal Jira tokens, OAuth verifiers, a queued /connect token).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of SECRET_KEY once decoded: AES-256.
const KeySize = 32

// version is the first byte of every sealed value, so the format (cipher,
// nonce size) can change later without guessing what old values are.
const version byte = 1

// ErrOpen means a sealed value does not open: another key sealed it, it was
// changed, or it was sealed for another purpose (additional data).
var ErrOpen = errors.New("secret: cannot open: wrong SECRET_KEY, or the data was changed or moved")

// Key seals and opens values with AES-256-GCM. Its printed forms hide the
// key: fmt would otherwise print the cipher's round keys.
type Key struct {
	aead cipher.AEAD
}

// ParseKey reads SECRET_KEY: standard base64 of exactly 32 bytes, as made
// by `openssl rand -base64 32`. Its errors never contain the value.
func ParseKey(encoded string) (*Key, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return nil, errors.New("not standard base64 (make one with: openssl rand -base64 32)")
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("decodes to %d bytes, want %d (make one with: openssl rand -base64 32)", len(raw), KeySize)
	}
	return newKey(raw)
}

func newKey(raw []byte) (*Key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	// The random nonce (12 bytes) is drawn for every Seal and prefixed to
	// the ciphertext by the AEAD itself: no counter to keep across restarts.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Key{aead: aead}, nil
}

// Seal encrypts plain and binds it to additionalData, which names what the
// value is for ("account:42"): opened with other additional data, it fails.
// The result is a version byte, the nonce, the ciphertext and the tag.
func (k Key) Seal(plain, additionalData []byte) []byte {
	out := make([]byte, 1, 1+len(plain)+k.aead.Overhead())
	out[0] = version
	return k.aead.Seal(out, nil, plain, additionalData)
}

// Open decrypts what Seal made with the same key and additional data; any
// mismatch is ErrOpen.
func (k Key) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < 1+k.aead.Overhead() {
		return nil, fmt.Errorf("%w (too short)", ErrOpen)
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("%w (unknown format %d)", ErrOpen, sealed[0])
	}
	plain, err := k.aead.Open(nil, nil, sealed[1:], additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// String hides the key from logs and error messages.
func (k Key) String() string { return "secret.Key(hidden)" }

// GoString hides the key from %#v.
func (k Key) GoString() string { return k.String() }
