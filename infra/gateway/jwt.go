package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer mints and verifies the local stack's JWTs. It stands in for Cognito and for API Gateway's JWT
// authorizer: ES256 keys made at start, issuer and audience checked, claims flattened to strings the way
// HTTP APIs pass them to Lambda. It exists only in the local runner; the template never routes to it.
type Issuer struct {
	key      *ecdsa.PrivateKey
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// NewIssuer makes a fresh signing key.
func NewIssuer(issuer, audience string, ttl time.Duration) (*Issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return &Issuer{key: key, issuer: issuer, audience: audience, ttl: ttl, now: time.Now}, nil
}

// TokenRequest is the body of POST /_local/token.
type TokenRequest struct {
	Sub    string   `json:"sub"`
	Groups []string `json:"groups"`
	Dept   string   `json:"dept,omitempty"`
}

// Mint signs a token shaped like a Cognito ID token.
func (i *Issuer) Mint(req TokenRequest) (string, error) {
	if req.Sub == "" {
		return "", errors.New("sub is required")
	}
	now := i.now()
	claims := jwt.MapClaims{
		"sub": req.Sub, "iss": i.issuer, "aud": i.audience, "token_use": "id",
		"iat": now.Unix(), "exp": now.Add(i.ttl).Unix(), "cognito:groups": req.Groups,
	}
	if req.Dept != "" {
		claims["custom:dept"] = req.Dept
	}
	return jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(i.key)
}

// Verify checks a bearer token as the HttpApi JWT authorizer does (signature, exp/nbf, iss, aud) and
// returns its claims flattened to strings.
func (i *Issuer) Verify(authorization string) (map[string]string, error) {
	raw := strings.TrimSpace(authorization)
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if raw == "" {
		return nil, errors.New("no token")
	}
	tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return &i.key.PublicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(i.issuer), jwt.WithAudience(i.audience), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(i.now))
	if err != nil {
		return nil, err
	}
	mc, _ := tok.Claims.(jwt.MapClaims)
	return Flatten(mc), nil
}

// Flatten renders claims as API Gateway HTTP APIs do: strings as they are, numbers in decimal, and arrays
// as "[a b c]".
func Flatten(mc map[string]any) map[string]string {
	out := make(map[string]string, len(mc))
	for k, v := range mc {
		out[k] = flat(v)
	}
	return out
}

func flat(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flat(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case []string:
		return "[" + strings.Join(x, " ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + flat(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
