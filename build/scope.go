package build

import (
	"maps"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// scope is the variables one instruction sees: the stage's ENV over its
// declared ARGs, as Docker has it ("ENV always overrides ARG").
type scope struct {
	env  []string          // the stage's ENV, KEY=VALUE
	args map[string]string // ARGs declared (and valued) in the stage
}

// Get implements shell.EnvGetter.
func (s scope) Get(key string) (string, bool) {
	for i := len(s.env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(s.env[i], "="); k == key {
			return v, true
		}
	}
	v, ok := s.args[key]
	return v, ok
}

// Keys implements shell.EnvGetter.
func (s scope) Keys() []string {
	keys := map[string]bool{}
	for _, kv := range s.env {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	for k := range s.args {
		keys[k] = true
	}
	return slices.Sorted(maps.Keys(keys))
}

// runEnv is the environment of a RUN: the declared ARGs, then the ENV,
// which wins.
func (s scope) runEnv() []string {
	out := make([]string, 0, len(s.args)+len(s.env))
	for _, k := range slices.Sorted(maps.Keys(s.args)) {
		if _, inEnv := (scope{env: s.env}).Get(k); !inEnv {
			out = append(out, k+"="+s.args[k])
		}
	}
	return append(out, s.env...)
}

// argsText is the ARGs in scope as sorted KEY=VALUE lines, for cache keys.
func (s scope) argsText() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(s.args)) {
		b.WriteString(k + "=" + s.args[k] + "\n")
	}
	return b.String()
}

// expander returns BuildKit's single-word expander over s, using the
// Dockerfile's escape token.
func expander(lex *shell.Lex, s scope) instructions.SingleWordExpander {
	return func(word string) (string, error) {
		out, _, err := lex.ProcessWord(word, s)
		return out, err
	}
}

// declareArgs applies an ARG instruction (already expanded) to args:
// a build arg given for the name wins over the default, and a name
// declared without default takes the global ARG's value, if any.
func declareArgs(args map[string]string, cmd *instructions.ArgCommand, buildArgs, global map[string]string) {
	for _, a := range cmd.Args {
		switch v, given := buildArgs[a.Key]; {
		case given:
			args[a.Key] = v
		case a.Value != nil:
			args[a.Key] = *a.Value
		default:
			if g, ok := global[a.Key]; ok {
				args[a.Key] = g
			}
		}
	}
}

// proxyNames are BuildKit's predefined ARGs: a RUN sees them when given
// as build args, declared or not, and they are not part of cache keys.
var proxyNames = []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}

// proxyArgs are the predefined ARGs among the build args, KEY=VALUE.
func proxyArgs(buildArgs map[string]string) []string {
	var out []string
	for _, k := range proxyNames {
		if v, ok := buildArgs[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}
