package wiki

import (
	"os"
	"testing"
)

func TestHang(t *testing.T) {
	b, _ := os.ReadFile("/tmp/hang.bin")
	out := ToTelegramHTML(string(b), func(id string) string { return id + "<&>" })
	t.Logf("%q", out)
	t.Log(validateHTML(out))
}
