package spec

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileCompose compiles doc as compose-go does (the name it gives it and
// its format), with the trust berth gives compose-go's schema or without.
func compileCompose(t testing.TB, doc any, trusted bool) error {
	t.Helper()
	if !trusted {
		jsonschema.TrustSchemas(nil)
		defer jsonschema.TrustSchemas(isComposeSchema)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("compose-spec.json", doc); err != nil {
		t.Fatal(err)
	}
	c.RegisterFormat(&jsonschema.Format{Name: "duration", Validate: func(any) error { return nil }})
	_, err := c.Compile("compose-spec.json")
	return err
}

// TestComposeSchemaIsValid vouches for skipping the meta-schema check of
// compose-go's schema (isComposeSchema): compiled with the check, the
// embedded compose-spec.json is valid, and it is the document the
// predicate trusts. It fails when compose-go ships a schema that is not.
func TestComposeSchemaIsValid(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema.Schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileCompose(t, doc, false); err != nil {
		t.Fatalf("compose-go's schema against its meta-schema: %v", err)
	}
	if !isComposeSchema("file:///somewhere/compose-spec.json", doc) {
		t.Errorf("isComposeSchema does not recognise compose-go's schema ($id %v)", doc.(map[string]any)["$id"])
	}
	if isComposeSchema("file:///somewhere/other.json", doc) {
		t.Error("isComposeSchema trusts a document by its $id alone")
	}
}

// TestComposeSchemaTrustSkipsOnlyTheMetaCheck: a document posing as
// compose-go's schema that breaks the meta-schema compiles only with the
// trust (the check is skipped, so the trust is in force), and without it
// fails as before.
func TestComposeSchemaTrustSkipsOnlyTheMetaCheck(t *testing.T) {
	bad := func() any {
		return map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": composeSchemaID, "type": 7}
	}
	if err := compileCompose(t, bad(), false); err == nil {
		t.Fatal("an invalid schema compiled without the trust")
	}
	if err := compileCompose(t, bad(), true); err != nil {
		t.Fatalf("with the trust, the meta-schema check still ran: %v", err)
	}
}

// BenchmarkComposeSchemaCompile is what every process that validates a
// compose file pays once: compose-go's compilation of its schema, with
// berth's trust.
func BenchmarkComposeSchemaCompile(b *testing.B) {
	for i := 0; i < b.N; i++ {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema.Schema))
		if err != nil {
			b.Fatal(err)
		}
		if err := compileCompose(b, doc, true); err != nil {
			b.Fatal(err)
		}
	}
}
