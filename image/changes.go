package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidChange is returned for a change line Import does not understand.
var ErrInvalidChange = errors.New("invalid image change")

// applyChanges applies Dockerfile-style lines ("CMD [...]", "ENV K=V", …)
// to c, as `docker import --change` does. Every bad line is reported.
func applyChanges(c *Config, changes []string) error {
	var errs []error
	for _, line := range changes {
		if err := applyChange(c, line); err != nil {
			errs = append(errs, fmt.Errorf("change %q: %w", line, err))
		}
	}
	return errors.Join(errs...)
}

func applyChange(c *Config, line string) error {
	instr, args, _ := strings.Cut(strings.TrimSpace(line), " ")
	args = strings.TrimSpace(args)
	if args == "" {
		return fmt.Errorf("missing arguments: %w", ErrInvalidChange)
	}
	switch strings.ToUpper(instr) {
	case "CMD":
		c.Cmd = commandForm(args)
	case "ENTRYPOINT":
		c.Entrypoint = commandForm(args)
	case "ENV":
		kvs, err := keyValues(args, true)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			c.Env = setEnv(c.Env, kv[0], kv[1])
		}
	case "LABEL":
		kvs, err := keyValues(args, false)
		if err != nil {
			return err
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for _, kv := range kvs {
			c.Labels[kv[0]] = kv[1]
		}
	case "WORKDIR":
		c.WorkingDir = args
	case "USER":
		c.User = args
	case "STOPSIGNAL":
		c.StopSignal = args
	case "EXPOSE":
		for _, p := range strings.Fields(args) {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			c.ExposedPorts = appendUnique(c.ExposedPorts, p)
		}
	case "VOLUME":
		for _, v := range listForm(args) {
			c.Volumes = appendUnique(c.Volumes, v)
		}
	default:
		return fmt.Errorf("unsupported instruction %q: %w", instr, ErrInvalidChange)
	}
	return nil
}

// commandForm reads the exec form (a JSON array) or the shell form, which
// becomes ["/bin/sh", "-c", args].
func commandForm(args string) []string {
	var list []string
	if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &list) == nil {
		return list
	}
	return []string{"/bin/sh", "-c", args}
}

// listForm reads a JSON array or whitespace-separated words.
func listForm(args string) []string {
	var list []string
	if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &list) == nil {
		return list
	}
	return strings.Fields(args)
}

// keyValues reads "K=V K2=\"v 2\"" pairs, or (when legacy is allowed) the
// old "K V with spaces" form.
func keyValues(args string, legacy bool) ([][2]string, error) {
	words, err := splitWords(args)
	if err != nil {
		return nil, err
	}
	if legacy && !strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(args, " ")
		return [][2]string{{k, strings.TrimSpace(v)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE: %w", w, ErrInvalidChange)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits on blanks, honouring double and single quotes and
// backslash escapes, and removes the quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unterminated quote or escape: %w", ErrInvalidChange)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// setEnv sets k=v in env, replacing an earlier value of k.
func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if name, _, _ := strings.Cut(e, "="); name == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

func appendUnique(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}
