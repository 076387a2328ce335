package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// encodedKey is a fresh SECRET_KEY value.
func encodedKey() string {
	raw := make([]byte, KeySize)
	rand.Read(raw)
	return base64.StdEncoding.EncodeToString(raw)
}

func newTestKey(t *testing.T) *Key {
	t.Helper()
	k, err := ParseKey(encodedKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKey(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))
	tests := []struct {
		name, value, want string
	}{
		{"good", encodedKey(), ""},
		{"good with the newline of a file", encodedKey() + "\n", ""},
		{"empty", "", "decodes to 0 bytes, want 32"},
		{"too short", short, "decodes to 16 bytes, want 32"},
		{"not base64", "this is not base64 at all!!", "not standard base64"},
		{"url-safe alphabet", strings.NewReplacer("+", "-", "/", "_").Replace("++++" + encodedKey()[4:]), "not standard base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKey(tt.value)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ParseKey: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseKey = %v, want %q", err, tt.want)
			}
			if tt.value != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.value)) {
				t.Errorf("the error echoes the value: %v", err)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	k := newTestKey(t)
	plain := []byte("jira-access-token")
	ad := []byte("account:42")
	sealed := k.Seal(plain, ad)
	if sealed[0] != version {
		t.Errorf("first byte %d, want the version %d", sealed[0], version)
	}
	if bytes.Contains(sealed, plain) {
		t.Errorf("sealed value contains the plain text")
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := k.Open(sealed, ad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	})
	t.Run("fresh nonce", func(t *testing.T) {
		again := k.Seal(plain, ad)
		if bytes.Equal(again, sealed) {
			t.Errorf("two seals of one value are equal: the nonce was reused")
		}
		if bytes.Equal(again[1:13], sealed[1:13]) {
			t.Errorf("two seals share a nonce")
		}
	})
	tests := []struct {
		name   string
		key    *Key
		sealed []byte
		ad     []byte
	}{
		{"wrong key", newTestKey(t), sealed, ad},
		{"tampered ciphertext", k, flip(sealed, len(sealed)/2), ad},
		{"tampered nonce", k, flip(sealed, 2), ad},
		{"tampered tag", k, flip(sealed, len(sealed)-1), ad},
		{"unknown version", k, flip(sealed, 0), ad},
		{"cut short", k, sealed[:10], ad},
		{"empty", k, nil, ad},
		{"moved to another user", k, sealed, []byte("account:43")},
		{"no additional data", k, sealed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Open(tt.sealed, tt.ad)
			if !errors.Is(err, ErrOpen) {
				t.Errorf("Open = %q, %v; want ErrOpen", got, err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestKeyHidesItself(t *testing.T) {
	encoded := encodedKey()
	k, err := ParseKey(encoded)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{k, *k} {
			out := fmt.Sprintf(form, v)
			if out != "secret.Key(hidden)" {
				t.Errorf("Sprintf(%q) = %q", form, out)
			}
		}
	}
}
