package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// untrustedEnv makes this package's test binary compile compose-go's
// schema as upstream does, with the meta-schema check (TestMain).
const untrustedEnv = "BERTH_TEST_UNTRUSTED_SCHEMA"

// reportEnv names the file of project directories TestLoadReport loads.
const reportEnv = "BERTH_TEST_LOAD_REPORT"

func TestMain(m *testing.M) {
	if os.Getenv(untrustedEnv) == "1" {
		jsonschema.TrustSchemas(nil)
	}
	os.Exit(m.Run())
}

// trustCases are project directories, valid and invalid, for
// TestTrustedSchemaLoadsAlike: the example and test stacks, and files
// failing the schema, the unknown-key screen, interpolation and berth's
// own checks.
func trustCases(t *testing.T) []string {
	t.Helper()
	dirs := []string{mustAbs(t, "../examples/hello"), mustAbs(t, "testdata/stack"), sleepers(t, 10)}
	for _, text := range []string{
		"services:\n  web:\n    image: x\n    imagee: y\n",                                    // unknown key
		"services:\n  web:\n    image: x\n    ports: 80\n",                                    // wrong type
		"services:\n  web:\n    image: x\n    tty: maybe\n",                                   // wrong scalar
		"services:\n  web:\n    image: x\n   bad: [\n",                                        // bad YAML
		"services:\n  web:\n    image: x\n    stop_grace_period: 10years\n",                   // format
		"services:\n  bad name:\n    image: x\n",                                              // pattern
		"services:\n  web:\n    image: ${TAG:?TAG must be set}\n",                             // required variable
		"services:\n  web:\n    image: x${\n",                                                 // bad interpolation
		"services:\n  web:\n    image: x\n    cpus: lots\n",                                   // cast
		"services:\n  web:\n    image: x\n    restart: sometimes\n",                           // berth's check
		"services:\n  web:\n    image: x\n    ports: [{target: 80, host_ip: nowhere}]\n",      // compose-go's check
		"services:\n  web:\n    image: x\n    deploy: {resources: {limits: {devices: []}}}\n", // unsupported
		"version: '3'\nservices:\n  web:\n    image: x\n",                                     // obsolete version
		"networks:\n  n: {ipam: {config: [{subnet: 10.1.0.0/16}]}}\nservices:\n  web:\n    image: x\n    networks: [n]\n",
	} {
		dirs = append(dirs, writeProject(t, map[string]string{"compose.yaml": text}))
	}
	return dirs
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestTrustedSchemaLoadsAlike loads the same projects in two processes,
// one compiling compose-go's schema with the meta-schema check and one
// (berth's) without: every project and every error must be the same.
func TestTrustedSchemaLoadsAlike(t *testing.T) {
	list := filepath.Join(t.TempDir(), "dirs")
	if err := os.WriteFile(list, []byte(strings.Join(trustCases(t), "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	report := func(untrusted string) string {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestLoadReport$", "-test.count", "1")
		cmd.Env = append(os.Environ(), reportEnv+"="+list, untrustedEnv+"="+untrusted)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("TestLoadReport (untrusted=%s): %v\n%s", untrusted, err, out.String())
		}
		s := out.String()
		i, j := strings.Index(s, "BEGIN\n"), strings.Index(s, "END\n")
		if i < 0 || j < i {
			t.Fatalf("no report in:\n%s", s)
		}
		return s[i:j]
	}
	trusted, untrusted := report("0"), report("1")
	if trusted != untrusted {
		t.Errorf("loads differ:\nwith the trust:\n%s\nwithout it:\n%s", trusted, untrusted)
	}
	if n := strings.Count(trusted, "\nerror: "); n < 10 {
		t.Errorf("only %d of the invalid projects failed:\n%s", n, trusted)
	}
}

// TestLoadReport prints, for each directory of the file reportEnv names,
// the project it loads (as JSON) or the error; run by
// TestTrustedSchemaLoadsAlike in a process of its own.
func TestLoadReport(t *testing.T) {
	list := os.Getenv(reportEnv)
	if list == "" {
		t.Skip("run by TestTrustedSchemaLoadsAlike")
	}
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	out.WriteString("BEGIN\n")
	for _, dir := range strings.Split(string(b), "\n") {
		fmt.Fprintf(&out, "%s\n", dir)
		p, err := Load(context.Background(), LoadOptions{WorkingDir: dir, Environ: []string{"V=1"}})
		if err != nil {
			fmt.Fprintf(&out, "error: %v\n", err)
			continue
		}
		j, err := json.Marshal(struct {
			P        *Project
			Env      []string
			Profiles []string
		}{p, p.Environment(), p.AllProfiles()})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s\n", j)
	}
	out.WriteString("END\n")
	fmt.Print(out.String())
}
