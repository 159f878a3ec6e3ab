package jsonschema

import "sync/atomic"

// berth's patch (see PATCH.md): a program that embeds a schema known to
// be valid against its meta-schema can spare every process the check.

// trustedDoc is the predicate TrustSchemas set, nil for none.
var trustedDoc atomic.Pointer[func(url string, doc any) bool]

// TrustSchemas makes Compilers skip validating the schema documents for
// which trusted returns true against their meta-schemas: the caller
// vouches for them (a test of its own compiles them with the check).
// Everything else about compiling them is unchanged. nil trusts nothing.
func TrustSchemas(trusted func(url string, doc any) bool) {
	if trusted == nil {
		trustedDoc.Store(nil)
		return
	}
	trustedDoc.Store(&trusted)
}

// isTrusted reports whether TrustSchemas vouched for the document doc
// at u.
func isTrusted(u url, doc any) bool {
	f := trustedDoc.Load()
	return f != nil && (*f)(string(u), doc)
}
