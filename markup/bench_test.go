package markup

import (
	"strings"
	"testing"

	tele "gopkg.in/telebot.v3"
)

// A realistic post: a few paragraphs with formatting, a link and emoji.
var (
	benchText     = strings.Repeat("🔥 Disk full on db-1: the /var partition is at 100%, see runbook and logs. ", 20)
	benchEntities = func() []tele.MessageEntity {
		var es []tele.MessageEntity
		for i := 0; i < 20; i++ {
			base := i * 76 // UTF-16 length of one repetition
			es = append(es,
				tele.MessageEntity{Type: tele.EntityBold, Offset: base + 3, Length: 9},
				tele.MessageEntity{Type: tele.EntityCode, Offset: base + 24, Length: 4},
				tele.MessageEntity{Type: tele.EntityTextLink, Offset: base + 55, Length: 7, URL: "https://wiki.example.com/runbook"},
			)
		}
		return es
	}()
	benchWiki = strings.Repeat("h2. Status\n*Disk* is _full_ on {{db-1}}, see [runbook|https://wiki.example.com/r] and [~accountid:5b10a2844c20165700ede21g].\n* clean logs\n* rotate\n{code:go}\nfmt.Println(1)\n{code}\n", 10)
)

func BenchmarkFromTelegram(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		FromTelegram(benchText, benchEntities)
	}
}

func BenchmarkToTelegramHTML(b *testing.B) {
	b.SetBytes(int64(len(benchWiki)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ToTelegramHTML(benchWiki, func(id string) string { return "Jane" })
	}
}
