// Package fnconfig reads the settings every function shares from the environment (named errors for what is
// missing or malformed). The AWS configuration is built by functions/platform from the Lambda
// environment alone: this package links no AWS SDK (issue 11, cold start).
package fnconfig

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// Env looks up environment variables; os.Getenv in Lambda, a map in tests and the local runner.
type Env func(string) string

// ErrMissing is returned for a required variable that is unset.
var ErrMissing = errors.New("required environment variable is not set")

// Required returns the variable or a named error.
func (e Env) Required(name string) (string, error) {
	v := e(name)
	if v == "" {
		return "", fmt.Errorf("%s: %w", name, ErrMissing)
	}
	return v, nil
}

// Int64 returns the variable as an int64, or def when unset.
func (e Env) Int64(name string, def int64) (int64, error) {
	v := e(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a whole number", name, v)
	}
	return n, nil
}

// Location returns the time zone named by the variable, or Asia/Shanghai when unset.
func (e Env) Location(name string) (*time.Location, error) {
	v := e(name)
	if v == "" {
		v = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", name, v, err)
	}
	return loc, nil
}

// Logger is the JSON logger every function uses, tagged with the function's name.
func Logger(function string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("function", function)
}
