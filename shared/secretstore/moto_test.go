package secretstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/secretstore"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// GetSecretValue over Secrets Manager's JSON protocol, against moto: the value as stored, its current
// version after a rotation, and a missing secret as the service's ResourceNotFoundException (a
// configuration error, without a domain kind), each one counted call.
func TestSecretsAgainstMoto(t *testing.T) {
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	ctx := context.Background()
	name := e.SecretPrefix + "/dept/roads"
	if err := e.PutSecret(ctx, name, "whsec_one"); err != nil {
		t.Fatal(err)
	}
	client := secretstore.NewClient(e.Counted)
	if v, err := client.SecretString(ctx, name); err != nil || v != "whsec_one" {
		t.Fatalf("SecretString = %q, %v", v, err)
	}
	if err := e.PutSecret(ctx, name, "whsec_two"); err != nil {
		t.Fatal(err)
	}
	store := secretstore.New(client, time.Hour, time.Now)
	if v, err := store.Secret(ctx, name); err != nil || v != "whsec_two" {
		t.Fatalf("after rotation: %q, %v", v, err)
	}
	_, err := store.Secret(ctx, e.SecretPrefix+"/dept/nobody")
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ResourceNotFoundException" || apperr.As(err) != nil {
		t.Errorf("missing secret: %v, want ResourceNotFoundException without a domain kind", err)
	}
	if got := e.Calls.Snapshot()["Secrets Manager.GetSecretValue"]; got != 3 {
		t.Errorf("%d GetSecretValue calls counted, want 3", got)
	}
}
