package gateway

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gopkg.in/yaml.v3"
)

// userWritable are the attributes an app client may let a signed-in user write: profile fields no function
// reads. Anything else, every custom: attribute above all, may carry privilege (custom:dept scopes a staff
// member to a department and the command center), so only an administrator sets it.
var userWritable = []string{
	"address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name", "name",
	"nickname", "phone_number", "picture", "preferred_username", "profile", "website", "zoneinfo",
}

// tokenClaims are the claims of a Cognito ID token that come from the token itself or from the pool's
// groups, not from user attributes.
var tokenClaims = []string{"sub", "iss", "aud", "exp", "iat", "token_use", "auth_time", "cognito:groups",
	"cognito:username", "event_id", "origin_jti", "jti"}

// privilegedAttributes are the user attributes behind the claims the local issuer mints (the claims the
// functions are given and trust), found by minting a token with every field set.
func privilegedAttributes(t *testing.T) []string {
	t.Helper()
	iss, err := NewIssuer("local", "app", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := iss.Mint(TokenRequest{Sub: "u1", Groups: []string{"staff"}, Dept: "sanitation"})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		t.Fatal(err)
	}
	var attrs []string
	for name := range claims {
		if !slices.Contains(tokenClaims, name) {
			attrs = append(attrs, name)
		}
	}
	slices.Sort(attrs)
	return attrs
}

// checkCognitoClients returns what is wrong with the user pool clients of a CloudFormation/SAM template:
// a client that does not name WriteAttributes (Cognito then lets users write every mutable attribute), that
// lets users write an attribute outside userWritable or one of privileged, or whose ReadAttributes leave
// out a privileged attribute (the claim would be missing from the ID token).
func checkCognitoClients(template []byte, privileged []string) ([]string, error) {
	var doc struct {
		Resources map[string]struct {
			Type       string               `yaml:"Type"`
			Properties map[string]yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	// yaml.v3 keeps CloudFormation's short-form tags (!Ref, !Sub) on the nodes instead of failing on them.
	if err := yaml.Unmarshal(template, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	var problems []string
	clients := 0
	for id, res := range doc.Resources {
		if res.Type != "AWS::Cognito::UserPoolClient" {
			continue
		}
		clients++
		lists := map[string][]string{}
		for _, prop := range []string{"WriteAttributes", "ReadAttributes"} {
			n, ok := res.Properties[prop]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not set", id, prop))
				continue
			}
			vals, err := literalList(&n)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s: %v", id, prop, err))
				continue
			}
			lists[prop] = vals
		}
		for _, a := range lists["WriteAttributes"] {
			if strings.HasPrefix(a, "custom:") || !slices.Contains(userWritable, a) || slices.Contains(privileged, a) {
				problems = append(problems, fmt.Sprintf("%s: users may write %s", id, a))
			}
		}
		if read, ok := lists["ReadAttributes"]; ok {
			for _, a := range privileged {
				if !slices.Contains(read, a) {
					problems = append(problems, fmt.Sprintf("%s: ReadAttributes leave out %s (no such claim in the ID token)", id, a))
				}
			}
		}
	}
	if clients == 0 {
		problems = append(problems, "no AWS::Cognito::UserPoolClient")
	}
	slices.Sort(problems)
	return problems, nil
}

// literalList reads a YAML list of plain strings; an intrinsic function (!If, !Split …) cannot be checked.
func literalList(n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.SequenceNode || (n.Tag != "" && n.Tag != "!!seq") {
		return nil, fmt.Errorf("want a literal list, got %s %s (line %d)", n.Tag, kindName(n.Kind), n.Line)
	}
	var out []string
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || c.Tag != "!!str" {
			return nil, fmt.Errorf("want a literal string, got %s (line %d)", c.Tag, c.Line)
		}
		out = append(out, c.Value)
	}
	return out, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "node"
}

// TestCognitoClientsCannotWritePrivilege reads the repository's template.yaml: no app client may let a user
// write a claim the functions trust (finding 1 of issue 10: staff could move themselves to another
// department with UpdateUserAttributes).
func TestCognitoClientsCannotWritePrivilege(t *testing.T) {
	privileged := privilegedAttributes(t)
	if !slices.Equal(privileged, []string{"custom:dept"}) {
		t.Fatalf("the local issuer mints attribute claims %v; review userWritable and this test for the new ones", privileged)
	}
	data, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := checkCognitoClients(data, privileged)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestCheckCognitoClients shows the check refusing the templates it must refuse, the one before the fix
// among them.
func TestCheckCognitoClients(t *testing.T) {
	const head = "Resources:\n  Pool: { Type: AWS::Cognito::UserPool }\n  Client:\n    Type: AWS::Cognito::UserPoolClient\n    Properties:\n      UserPoolId: !Ref Pool\n"
	priv := []string{"custom:dept"}
	cases := []struct {
		name  string
		props string
		want  []string
	}{
		{name: "before the fix: no attribute lists", props: "",
			want: []string{"Client: ReadAttributes is not set", "Client: WriteAttributes is not set"}},
		{name: "writes custom:dept", props: "      ReadAttributes: [name, \"custom:dept\"]\n      WriteAttributes: [name, \"custom:dept\"]\n",
			want: []string{"Client: users may write custom:dept"}},
		{name: "writes another custom attribute", props: "      ReadAttributes: [\"custom:dept\"]\n      WriteAttributes: [\"custom:tier\"]\n",
			want: []string{"Client: users may write custom:tier"}},
		{name: "writes a verification flag", props: "      ReadAttributes: [\"custom:dept\"]\n      WriteAttributes: [phone_number_verified]\n",
			want: []string{"Client: users may write phone_number_verified"}},
		{name: "reads no dept", props: "      ReadAttributes: [name]\n      WriteAttributes: [name]\n",
			want: []string{"Client: ReadAttributes leave out custom:dept (no such claim in the ID token)"}},
		{name: "computed list", props: "      ReadAttributes: [\"custom:dept\"]\n      WriteAttributes: !Split [\",\", \"name\"]\n",
			want: []string{"Client: WriteAttributes: want a literal list, got !Split sequence (line 8)"}},
		{name: "computed item", props: "      ReadAttributes: [\"custom:dept\"]\n      WriteAttributes: [!Ref Attr]\n",
			want: []string{"Client: WriteAttributes: want a literal string, got !Ref (line 8)"}},
		{name: "fixed", props: "      ReadAttributes: [name, phone_number, \"custom:dept\"]\n      WriteAttributes: [name, phone_number]\n"},
		{name: "empty write list", props: "      ReadAttributes: [\"custom:dept\"]\n      WriteAttributes: []\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkCognitoClients([]byte(head+tc.props), priv)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("no client", func(t *testing.T) {
		got, err := checkCognitoClients([]byte("Resources:\n  Pool: { Type: AWS::Cognito::UserPool }\n"), priv)
		if err != nil || !slices.Equal(got, []string{"no AWS::Cognito::UserPoolClient"}) {
			t.Errorf("problems = %q, %v", got, err)
		}
	})
}
