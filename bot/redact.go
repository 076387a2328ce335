package bot

import (
	"encoding/json"
	"errors"
	"strings"
)

// RedactToken removes the bot token from an error: it is part of every Bot
// API URL, and net/http puts URLs in its errors.
func RedactToken(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "<token>"))
}

func isJSONError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || err.Error() == "unexpected end of JSON input"
}
