module github.com/jtbot/jtbot

go 1.26

require (
	github.com/caarlos0/env/v10 v10.0.0 // indirect
	github.com/ctreminiom/go-atlassian/v2 v2.12.0 // indirect
	github.com/sirupsen/logrus v1.9.3 // indirect
	go.etcd.io/bbolt v1.4.3 // indirect
	golang.org/x/sys v0.29.0 // indirect
	gopkg.in/telebot.v3 v3.3.8 // indirect
)
