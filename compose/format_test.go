package compose

import (
	"strings"
	"testing"
)

func TestListingFormats(t *testing.T) {
	rows := []networkRow{{ID: "0123456789ab", Name: "shop_default", Driver: "bridge", Scope: "local", Subnet: "10.1.0.0/24", Project: "shop"},
		{ID: "ba9876543210", Name: "ext", Driver: "bridge", Scope: "local", Subnet: "10.2.0.0/24", Internal: true}}
	for _, c := range []struct{ format, want string }{
		{"table", "NETWORK ID     NAME           DRIVER   SCOPE   SUBNET\n0123456789ab   shop_default   bridge   local   10.1.0.0/24\nba9876543210   ext            bridge   local   10.2.0.0/24\n"},
		{"", "NETWORK ID     NAME           DRIVER   SCOPE   SUBNET\n0123456789ab   shop_default   bridge   local   10.1.0.0/24\nba9876543210   ext            bridge   local   10.2.0.0/24\n"},
		{"{{.Name}}", "shop_default\next\n"},
		{`table {{.Name}}\t{{.Internal}}`, "NAME           INTERNAL\nshop_default   false\next            true\n"},
		{"{{.Name}} {{json .Labels}} {{upper .Driver}}", "shop_default null BRIDGE\next null BRIDGE\n"},
		{"json", `{"ID":"0123456789ab","Name":"shop_default","Driver":"bridge","Scope":"local","Internal":false,"Subnet":"10.1.0.0/24","Project":"shop","Labels":null}` + "\n" +
			`{"ID":"ba9876543210","Name":"ext","Driver":"bridge","Scope":"local","Internal":true,"Subnet":"10.2.0.0/24","Project":"","Labels":null}` + "\n"},
	} {
		var b strings.Builder
		if err := networkRows.render(&b, c.format, rows); err != nil {
			t.Fatalf("%q: %v", c.format, err)
		}
		if b.String() != c.want {
			t.Errorf("--format %q:\n%s\nwant:\n%s", c.format, b.String(), c.want)
		}
	}
	var b strings.Builder
	if err := imageRows.render(&b, "json", []imageRow{}); err != nil || b.String() != "" {
		t.Errorf("no rows in json: %q %v", b.String(), err)
	}
	if err := projectImages.render(&b, "json", []projectImage{{ID: "sha256:1"}}); err != nil || !strings.HasPrefix(b.String(), "[{") {
		t.Errorf("images --format json is one array: %q %v", b.String(), err)
	}
}

// A template that does not parse, or names a field rows do not have, is
// an error naming --format, never a silent table.
func TestListingRejectsBadTemplates(t *testing.T) {
	rows := []volumeRow{{Driver: "local", Name: "v"}}
	for _, f := range []string{"{{.Name", "{{.Nope}}", "table {{.Nope}}", "{{nofunc .Name}}"} {
		var b strings.Builder
		err := volumeRows.render(&b, f, rows)
		if err == nil || !strings.Contains(err.Error(), "--format") {
			t.Errorf("--format %q: want an error naming --format, got %v with output %q", f, err, b.String())
		}
	}
}
