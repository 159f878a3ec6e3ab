package spec

import (
	"strings"

	"github.com/compose-spec/compose-go/v2/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// composeSchemaID is the $id of compose-go's embedded compose-spec.json
// (TestComposeSchemaIsValid checks it and that the document is valid
// against its meta-schema).
const composeSchemaID = "compose_spec.json"

func init() {
	// compose-go compiles its schema once per process, on the first
	// validation: two thirds of that compilation was checking the schema
	// against the JSON Schema meta-schema (and compiling the meta-schemas
	// for it). The schema is the one built into this binary, checked by
	// a test instead, so every load skips that check.
	jsonschema.TrustSchemas(isComposeSchema)
}

// isComposeSchema reports whether doc, at url, is compose-go's
// compose-spec.json (compose-go adds it as "compose-spec.json", which the
// compiler makes a file URL in the working directory).
func isComposeSchema(url string, doc any) bool {
	m, ok := doc.(map[string]any)
	return ok && m["$id"] == composeSchemaID && strings.HasSuffix(url, "/compose-spec.json")
}

// compileSchema compiles compose-go's schema now, in the background, so
// that a load's validation finds it ready: a load parses and interpolates
// the files before it validates them.
func compileSchema() {
	go schema.Validate(map[string]any{}) //nolint:errcheck // an empty model is valid; the compilation is the point
}
